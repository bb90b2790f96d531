package kernel

import "testing"

func TestStateName(t *testing.T) {
	for _, c := range []struct {
		state, exit uint64
		want, long  string
	}{
		{0, 0, "RU", "TASK_RUNNING"},
		{1, 0, "IN", "TASK_INTERRUPTIBLE"},
		{2, 0, "UN", "TASK_UNINTERRUPTIBLE"},
		{0x402, 0, "ID", "TASK_IDLE"}, // TASK_UNINTERRUPTIBLE | TASK_NOLOAD
		{4, 0, "ST", "TASK_STOPPED"},
		{8, 0, "TR", "TASK_TRACED"},
		{0x40, 0, "PA", "TASK_PARKED"},
		{0, 0x20, "ZO", "EXIT_ZOMBIE"},
		{0x80, 0x10, "DE", "EXIT_DEAD"},
		{0x1000, 0, "??", "0x1000"},
	} {
		tk := Task{State: c.state, ExitState: c.exit}
		if got := tk.StateName(); got != c.want {
			t.Errorf("state %#x exit %#x: %s, want %s", c.state, c.exit, got, c.want)
		}
		if got := tk.StateLong(); got != c.long {
			t.Errorf("state %#x exit %#x: %s, want %s", c.state, c.exit, got, c.long)
		}
	}
	if !(Task{Flags: PFKthread, MM: 0}).IsKernelThread() || (Task{MM: 0x1000}).IsKernelThread() {
		t.Error("IsKernelThread")
	}
}
