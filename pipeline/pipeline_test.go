package pipeline

import (
	"os"
	"strings"
	"testing"

	"github.com/kdumpkit/kdumpkit/internal/testdump"
)

const vexpressConsole = `[    0.000000] Booting Linux on physical CPU 0x0
[    0.000000] WARNING: CPU: 0 PID: 0 at arch/arm/kernel/devtree.c:130 arm_dt_init_cpu_maps+0x168/0x228
[    0.000000] CPU: 0 PID: 0 Comm: swapper Not tainted 6.1.192 #1
[    0.000000]  unwind_backtrace from show_stack+0x10/0x14
[    0.000000]  __warn from warn_slowpath_fmt+0x9c/0xd4
[    1.000000] Run /init as init process
KDUMPKIT: READY crash kernel loaded
KDUMPKIT: GROUND TRUTH BEGIN
release 6.1.192
task 1 0 S init
task 2 0 S kthreadd
task 7 2 I kworker/0:0-events
task 40 1 S kdumpinit
log <6>[    1.500000] virtio_blk virtio0: [vda] 1179648 512-byte logical blocks
log <6>[    1.600000] 9pnet: Installing 9P2000 support
KDUMPKIT: GROUND TRUTH END
KDUMPKIT: CRASHING sysrq
[    1.897436] sysrq: Trigger a crash
[    1.897436] Kernel panic - not syncing: sysrq triggered crash
[    1.897772] CPU: 0 PID: 41 Comm: kdumpinit Kdump: loaded Not tainted 6.1.192 #1
[    1.898018] Hardware name: ARM-Versatile Express
[    1.898474]  unwind_backtrace from show_stack+0x10/0x14
[    1.898884]  show_stack from dump_stack_lvl+0x40/0x4c
[    1.898995]  dump_stack_lvl from panic+0x108/0x358
[    1.899139]  panic from sysrq_reset_seq_param_set+0x0/0x88
[    1.899772] Loading crashdump kernel...
[    0.000000] Booting Linux on physical CPU 0x0
KDUMPKIT: CAPTURE KERNEL UP
KDUMPKIT: VMCORE SAVED target=9p:dump size=469770240 sha256=` + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" + `
`

func TestParseTruth(t *testing.T) {
	tr := ParseTruth(strings.Split(vexpressConsole, "\n"))
	if tr.Release != "6.1.192" || tr.Panic != "sysrq triggered crash" || tr.PanicPID != 41 || tr.PanicComm != "kdumpinit" {
		t.Errorf("%+v", tr)
	}
	if len(tr.Tasks) != 4 || tr.Tasks[7] != "kworker/0:0-events" || len(tr.LogTail) != 2 || tr.LogTail[1] != "9pnet: Installing 9P2000 support" {
		t.Errorf("tasks %v log %q", tr.Tasks, tr.LogTail)
	}
	if strings.Join(tr.Frames, " ") != "unwind_backtrace show_stack dump_stack_lvl panic" {
		t.Errorf("frames %v", tr.Frames)
	}
	if tr.LastLine != "panic from sysrq_reset_seq_param_set+0x0/0x88" || tr.SavedSize != 469770240 || !strings.HasPrefix(tr.SavedSHA256, "0123") {
		t.Errorf("last %q saved %d %s", tr.LastLine, tr.SavedSize, tr.SavedSHA256)
	}
}

func agreeing() *Analysis {
	return &Analysis{Release: "6.1.192", Panic: "sysrq triggered crash", PanicPID: 41, PanicComm: "kdumpinit",
		Frames: []string{"__crash_kexec", "panic", "sysrq_handle_crash", "__handle_sysrq", "write_sysrq_trigger"},
		Tasks:  map[int]string{0: "swapper/0", 1: "init", 2: "kthreadd", 7: "kworker/0:0", 40: "kdumpinit", 41: "kdumpinit"},
		Log: []string{"virtio_blk virtio0: [vda] 1179648 512-byte logical blocks", "9pnet: Installing 9P2000 support", "sysrq: Trigger a crash",
			"Kernel panic - not syncing: sysrq triggered crash", "panic from sysrq_reset_seq_param_set+0x0/0x88", "Loading crashdump kernel..."}}
}

func TestCompareAgrees(t *testing.T) {
	agreed, ds := Compare(ParseTruth(strings.Split(vexpressConsole, "\n")), agreeing(), 0)
	if len(ds) != 0 || agreed != 8 {
		t.Errorf("agreed %d, disagreements %v", agreed, ds)
	}
}

func TestCompareShowsBothSides(t *testing.T) {
	for name, spoil := range map[string]func(*Analysis){
		"panic PID":           func(a *Analysis) { a.PanicPID = 1 },
		"backtrace functions": func(a *Analysis) { a.Frames = []string{"__crash_kexec", "sysrq_handle_crash"} },
		"tasks listed":        func(a *Analysis) { delete(a.Tasks, 7) },
		"log tail":            func(a *Analysis) { a.Log = a.Log[1:] },
	} {
		a := agreeing()
		spoil(a)
		_, ds := Compare(ParseTruth(strings.Split(vexpressConsole, "\n")), a, 0)
		if len(ds) != 1 || !strings.Contains(ds[0].Fact, name) || ds[0].Console == "" {
			t.Errorf("%s: %v", name, ds)
		}
	}
}

// TestReferenceConsole parses a real run's console (package testdump):
// kdumpinit's child triggers sysrq c, so the panic is that child's.
func TestReferenceConsole(t *testing.T) {
	b, err := os.ReadFile(testdump.Require(t).Console)
	if err != nil {
		t.Fatal(err)
	}
	tr := ParseTruth(strings.Split(string(b), "\n"))
	if tr.Panic != "sysrq triggered crash" || tr.PanicPID <= 1 || tr.PanicComm != "kdumpinit" {
		t.Errorf("panic %q by PID %d %q", tr.Panic, tr.PanicPID, tr.PanicComm)
	}
	if !strings.HasPrefix(tr.Release, "6.1.") || len(tr.Tasks) < 20 || tr.Tasks[1] != "init" || len(tr.LogTail) == 0 {
		t.Errorf("release %q, %d tasks (PID 1 %q), %d log lines", tr.Release, len(tr.Tasks), tr.Tasks[1], len(tr.LogTail))
	}
	if tr.SavedSize < 256<<20 || len(tr.SavedSHA256) != 64 || tr.LastLine == "" {
		t.Errorf("saved %d bytes sha256 %q; last line %q", tr.SavedSize, tr.SavedSHA256, tr.LastLine)
	}
}

// An LKDTM EXCEPTION oops goes to the crash kernel with no panic line.
const oopsConsole = `KDUMPKIT: CRASHING EXCEPTION
[    2.698223] Unhandled fault: page domain fault (0x81b) at 0x00000000
[    2.701342] Internal error: : 81b [#1] SMP ARM
[    2.702098] CPU: 0 PID: 49 Comm: kdumpinit Kdump: loaded Tainted: G        W          6.1.192 #1
[    2.712184]  lkdtm_EXCEPTION from direct_entry+0x104/0x124
[    2.712420]  direct_entry from full_proxy_write+0x54/0x84
[    2.713354]  full_proxy_write from vfs_write+0xb0/0x388
[    2.720000] Loading crashdump kernel...
`

func TestParseTruthOops(t *testing.T) {
	tr := ParseTruth(strings.Split(oopsConsole, "\n"))
	if tr.Panic != "Internal error: : 81b [#1] SMP ARM" || tr.PanicPID != 49 || strings.Join(tr.Frames, " ") != "lkdtm_EXCEPTION direct_entry full_proxy_write" {
		t.Errorf("%+v", tr)
	}
}

func TestParseTruthBUGPrefersInternalError(t *testing.T) {
	tr := ParseTruth([]string{"KDUMPKIT: CRASHING BUG", "[    8.782200] kernel BUG at drivers/misc/lkdtm/bugs.c:78!",
		"[    8.782312] Internal error: Oops - BUG: 0 [#1] SMP ARM", "[    8.782695] CPU: 0 PID: 50 Comm: kdumpinit Kdump: loaded"})
	if tr.Panic != "Internal error: Oops - BUG: 0 [#1] SMP ARM" || tr.PanicPID != 50 {
		t.Errorf("%+v", tr)
	}
}
