package kernel

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// consolePanic returns the PID and comm of the console's
// "CPU: 0 PID: 1 Comm: init ..." line after the panic message.
func consolePanic(t *testing.T, dir string) (int, string) {
	b, err := os.ReadFile(filepath.Join(dir, "console.log"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "Kernel panic - not syncing")
	if i < 0 {
		t.Fatal("console.log has no panic line")
	}
	m := regexp.MustCompile(`CPU: \d+ PID: (\d+) Comm: (\S+)`).FindStringSubmatch(s[i:])
	if m == nil {
		t.Fatal("console.log has no CPU/PID/Comm line after the panic")
	}
	pid, _ := strconv.Atoi(m[1])
	return pid, m[2]
}

func TestReferencePanicTask(t *testing.T) {
	ref := openReference(t)
	wantPID, wantComm := consolePanic(t, ref.dir)
	p, err := ref.kernel.PanicTask()
	if err != nil {
		t.Fatal(err)
	}
	if p.Warning != nil {
		t.Errorf("warning: %v", p.Warning)
	}
	if p.Task.PID != wantPID || p.Task.Comm != wantComm {
		t.Errorf("panic task PID %d comm %q, console says PID %d comm %q", p.Task.PID, p.Task.Comm, wantPID, wantComm)
	}
}

func TestReferenceTasks(t *testing.T) {
	ref := openReference(t)
	tasks, warns := ref.kernel.Tasks()
	for _, w := range warns {
		t.Errorf("warning: %v", w)
	}
	have := map[int]Task{}
	for _, tk := range tasks {
		have[tk.PID] = tk
	}
	b, err := os.ReadFile(filepath.Join(ref.dir, "ps-before-panic.txt"))
	if err != nil {
		t.Skip(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		pid, err := strconv.Atoi(f[0])
		if err != nil {
			continue // the header
		}
		// ps and the sed it piped into exited before the crash.
		if strings.Contains(line, "{ps}") || strings.HasPrefix(f[2], "sed") || f[2] == "ps" {
			continue
		}
		if _, ok := have[pid]; !ok {
			t.Errorf("PID %d (%s) from ps-before-panic.txt is missing", pid, strings.Join(f[2:], " "))
		}
	}
	if tk := have[2]; tk.Comm != "kthreadd" || !tk.IsKernelThread() {
		t.Errorf("PID 2 = %+v, want the kernel thread kthreadd", tk)
	}
	if tk := have[1]; tk.IsKernelThread() || tk.Total == 0 {
		t.Errorf("PID 1 = %+v, want a user task with an mm", tk)
	}
}

func TestReferenceBacktrace(t *testing.T) {
	ref := openReference(t)
	p, err := ref.kernel.PanicTask()
	if err != nil {
		t.Fatal(err)
	}
	bt, err := ref.kernel.Backtrace(p.Task, ref.unwind)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range bt.Frames {
		s, _, err := ref.syms.At(uint64(f.Lookup))
		if err != nil {
			names = append(names, "?")
			continue
		}
		names = append(names, s.Name)
	}
	t.Logf("frames: %v (start %s, stop %v)", names, bt.Start, bt.Stop)
	want := []string{"panic", "sysrq_handle_crash", "__handle_sysrq", "write_sysrq_trigger", "proc_reg_write", "vfs_write", "ret_fast_syscall"}
	i := 0
	for _, n := range names {
		if i < len(want) && n == want[i] {
			i++
		}
	}
	if i < len(want) {
		t.Errorf("backtrace %v lacks %v in order (missing from %s)", names, want, want[i])
	}
	if bt.Stop != nil {
		t.Errorf("walk stopped early: %v", bt.Stop)
	}
	if u := bt.Saved[len(bt.Frames)-1]; len(u) != 17 || u[16]&0x1f != 0x10 {
		t.Errorf("user pt_regs at the syscall entry: %#x, want r0–cpsr in USER_32 mode", u)
	}
	if r := bt.Saved[0]; len(r) != 17 || r[15] != bt.Frames[0].PC {
		t.Errorf("crash registers after frame 0: %#x, want pc %#x", r, bt.Frames[0].PC)
	}
	// Every other task's stack must unwind without a hard error.
	tasks, _ := ref.kernel.Tasks()
	for _, tk := range tasks {
		bt, err := ref.kernel.Backtrace(tk, ref.unwind)
		if err != nil || bt.Stop != nil || len(bt.Frames) < 2 {
			t.Errorf("PID %d %s: %d frames, err %v, stop %v", tk.PID, tk.Comm, len(bt.Frames), err, bt.Stop)
		}
	}
}
