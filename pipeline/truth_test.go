package pipeline

import (
	"strconv"
	"strings"
	"testing"
)

// TestParseTruthRefusesNumbersOutOfRange: a PID or size that does not
// fit is not a fact, rather than the largest integer.
func TestParseTruthRefusesNumbersOutOfRange(t *testing.T) {
	tr := ParseTruth([]string{
		"KDUMPKIT: GROUND TRUTH BEGIN", "task 99999999999999999999 0 S huge", "task -5 0 S negative", "KDUMPKIT: GROUND TRUTH END",
		"Kernel panic - not syncing: x", "CPU: 0 PID: 99999999999999999999 Comm: big",
		"KDUMPKIT: VMCORE SAVED target=9p:dump size=99999999999999999999 sha256=" + strings.Repeat("ab", 32),
	})
	if len(tr.Tasks) != 0 || tr.PanicPID != 0 || tr.PanicComm != "" || tr.SavedSize != 0 || tr.SavedSHA256 != "" {
		t.Errorf("tasks %v, panic PID %d comm %q, saved %d %q: want none of them", tr.Tasks, tr.PanicPID, tr.PanicComm, tr.SavedSize, tr.SavedSHA256)
	}
}

// FuzzParseTruth: whatever the console holds, every fact ParseTruth
// returns is in it.
func FuzzParseTruth(f *testing.F) {
	f.Add(vexpressConsole)
	f.Add(oopsConsole)
	f.Add("KDUMPKIT: GROUND TRUTH BEGIN\ntask 1 0 S a b c\nlog <6>[ 1.0] x\nrelease \nKDUMPKIT: GROUND TRUTH END\nCPU: 0 PID: 7 Comm: x\n")
	f.Fuzz(func(t *testing.T, text string) {
		tr := ParseTruth(strings.Split(text, "\n"))
		in := func(what, s string) {
			if !strings.Contains(text, s) {
				t.Fatalf("%s %q is not in the console", what, s)
			}
		}
		in("release", tr.Release)
		in("panic", tr.Panic)
		in("panic comm", tr.PanicComm)
		in("last line", tr.LastLine)
		in("saved sha256", tr.SavedSHA256)
		for pid, comm := range tr.Tasks {
			if pid < 0 {
				t.Fatalf("task PID %d", pid)
			}
			in("task PID", strconv.Itoa(pid))
			in("task comm", comm)
		}
		for _, l := range tr.LogTail {
			in("log line", l)
		}
		for _, fn := range tr.Frames {
			in("frame", fn)
		}
		if tr.PanicPID != 0 {
			in("panic PID", strconv.Itoa(tr.PanicPID))
		}
		if tr.SavedSHA256 != "" {
			in("saved size", "size="+strconv.FormatInt(tr.SavedSize, 10))
		}
		if tr.PanicPID < 0 || tr.SavedSize < 0 {
			t.Fatalf("panic PID %d, saved size %d", tr.PanicPID, tr.SavedSize)
		}
	})
}

// arm64Console is the crash part of a real arm64 run (QEMU virt, 6.12.117,
// KASLR): "CPU: N UID: U PID: P", a "Call trace:" block and "Starting
// crashdump kernel...".
const arm64Console = `KDUMPKIT: GROUND TRUTH BEGIN
release 6.12.117
text 0xffffd9f2be000000
task 1 0 S init
KDUMPKIT: GROUND TRUTH END
KDUMPKIT: CRASHING sysrq
[    1.314738] u-root init [optional]: warning creating dir "/sys/fs/cgroup/pids" (mode 0555): mkdir /sys/fs/cgroup: operation not permitted
[    2.491489] sysrq: Trigger a crash
[    2.492072] Kernel panic - not syncing: sysrq triggered crash
[    2.492458] CPU: 0 UID: 0 PID: 56 Comm: kdumpinit Kdump: loaded Not tainted 6.12.117 #2 
[    2.492695] Hardware name: linux,dummy-virt (DT)
[    2.492907] Call trace:
[    2.493029]  dump_backtrace+0xa0/0xdc
[    2.494185]  show_stack+0x14/0x1c
[    2.494278]  dump_stack_lvl+0x34/0x84
[    2.494357]  dump_stack+0x14/0x1c
[    2.494422]  panic+0x344/0x3a4
[    2.494485]  sysrq_reset_seq_param_set+0x0/0x60
[    2.494569]  __handle_sysrq+0xa8/0x1e0
[    2.494664]  write_sysrq_trigger+0x90/0xb0
[    2.494738]  proc_reg_write+0xa8/0xf0
[    2.494808]  vfs_write+0x84/0x2f0
[    2.494876]  ksys_write+0x5c/0xd8
[    2.494940]  __arm64_sys_write+0x18/0x20
[    2.495012]  invoke_syscall.constprop.0+0x54/0xcc
[    2.495095]  do_el0_svc+0x3c/0xb0
[    2.495157]  el0_svc+0x18/0x54
[    2.495220]  el0t_64_sync_handler+0xc0/0xd4
[    2.495295]  el0t_64_sync+0x14c/0x150
[    2.495686] SMP: stopping secondary CPUs
[    2.496431] Starting crashdump kernel...
[    2.497446] Bye!
[    0.000000] Booting Linux on physical CPU 0x0000000000 [0x411fd070]
KDUMPKIT: CAPTURE KERNEL UP text=0xffffad2060c00000
`

func TestParseTruthArm64(t *testing.T) {
	tr := ParseTruth(strings.Split(arm64Console, "\n"))
	if tr.Release != "6.12.117" || tr.Panic != "sysrq triggered crash" || tr.PanicPID != 56 || tr.PanicComm != "kdumpinit" {
		t.Errorf("release %q panic %q PID %d comm %q", tr.Release, tr.Panic, tr.PanicPID, tr.PanicComm)
	}
	if tr.LastLine != "SMP: stopping secondary CPUs" {
		t.Errorf("last line %q", tr.LastLine)
	}
	if tr.Text != 0xffffd9f2be000000 || tr.CaptureText != 0xffffad2060c00000 {
		t.Errorf("text %#x, capture kernel's %#x", tr.Text, tr.CaptureText)
	}
	// sysrq_reset_seq_param_set+0x0 is the address after sysrq_handle_crash's
	// noreturn call to panic, not a caller: left out.
	want := "dump_backtrace show_stack dump_stack_lvl dump_stack panic __handle_sysrq write_sysrq_trigger proc_reg_write vfs_write ksys_write __arm64_sys_write invoke_syscall.constprop.0 do_el0_svc el0_svc el0t_64_sync_handler el0t_64_sync"
	if got := strings.Join(tr.Frames, " "); got != want {
		t.Errorf("frames\n got %s\nwant %s", got, want)
	}
}
