package commands

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/kdumpkit/kdumpkit/internal/testdump"
)

// TestIRQ: irq's in-use IRQs are the devices the console says the
// kernel registered (uart-pl011, virtio0, twd), every descriptor's IRQ
// number is its irq_data.irq, and -s counts the timer tick the dump ran
// on (twd counts more than zero).
func TestIRQ(t *testing.T) {
	s, _ := openReference(t)
	irqs, err := s.Kernel.IRQs()
	if err != nil || len(irqs) == 0 {
		t.Fatalf("%d IRQs, %v", len(irqs), err)
	}
	for _, q := range irqs {
		if got := strings.TrimSpace(valueOf(run(t, s, fmt.Sprintf("p ((struct irq_desc *)%#x)->irq_data.irq", q.Desc)))); got != strconv.FormatUint(q.IRQ, 10) {
			t.Errorf("IRQ %d: irq_desc %#x says irq %s", q.IRQ, q.Desc, got)
		}
	}
	out := run(t, s, "irq -u")
	for _, name := range []string{`"uart-pl011"`, `"virtio0"`, `"twd"`} {
		if !strings.Contains(out, name) {
			t.Errorf("irq -u lacks %s:\n%s", name, out)
		}
	}
	if strings.Contains(out, "(unused)") {
		t.Errorf("irq -u lists unused IRQs:\n%s", out)
	}
	if m := regexp.MustCompile(`(?m)^ *\d+: +(\d+)  twd$`).FindStringSubmatch(run(t, s, "irq -s")); m == nil || m[1] == "0" {
		t.Errorf("irq -s: no twd ticks: %v", m)
	}
	if b := run(t, s, "irq -b"); !strings.Contains(b, "<run_timer_softirq>") {
		t.Errorf("irq -b:\n%s", b)
	}
}

// TestTimer: the wheel's timers are in expiry order, each one's TTE is
// its expiry less jiffies (read by p), and a task sleeping in
// schedule_timeout has its process_timeout timer there.
func TestTimer(t *testing.T) {
	s, _ := openReference(t)
	out := run(t, s, "timer")
	j, _ := strconv.ParseUint(strings.TrimSpace(valueOf(run(t, s, "p jiffies"))), 10, 64)
	if !strings.HasPrefix(out, fmt.Sprintf("JIFFIES\n%d\n", j)) {
		t.Errorf("timer does not start with jiffies %d:\n%s", j, out)
	}
	rows := regexp.MustCompile(`(?m)^ +(\d+) +(-?\d+) +([0-9a-f]+) +([0-9a-f]+)  <(\w+)>$`).FindAllStringSubmatch(out, -1)
	if len(rows) < 5 {
		t.Fatalf("timer: %d timers:\n%s", len(rows), out)
	}
	prev, sleeping := uint64(0), false
	for _, r := range rows {
		e, _ := strconv.ParseUint(r[1], 10, 64)
		tte, _ := strconv.ParseInt(r[2], 10, 64)
		if e < prev || tte != int64(int32(uint32(e-j))) {
			t.Errorf("timer row %q: out of order or TTE not expires-jiffies", r[0])
		}
		prev = e
		fn := valueOf(run(t, s, "p ((struct timer_list *)0x"+r[3]+")->function"))
		if !strings.Contains(fn, "<"+r[5]+">") {
			t.Errorf("timer %s: function %s, row says %s", r[3], fn, r[5])
		}
		sleeping = sleeping || r[5] == "process_timeout"
	}
	if !sleeping {
		t.Errorf("no process_timeout timer: no task sleeps in schedule_timeout?\n%s", out)
	}
}

// TestSigIpcsWaitq: init's handlers are those u-root's Go runtime
// installs (SA_SIGINFO|SA_ONSTACK|SA_RESTART on SIGHUP, SIG_DFL on
// SIGKILL), -g lists its threads (NR_THREADS of them), the test kernel
// has SYSVIPC and nothing allocated, and init, asleep in wait4, is on its
// own signal_struct's wait_chldexit queue.
func TestSigIpcsWaitq(t *testing.T) {
	s, _ := openReference(t)
	out := run(t, s, "sig 1")
	if !regexp.MustCompile(`(?m)^ \[1\]  [0-9a-f]+ +[0-9a-f]+ [0-9a-f]{16} 18000004 \(SA_SIGINFO\|SA_ONSTACK\|SA_RESTART\)$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^ \[9\]  [0-9a-f]+  SIG_DFL 0{16} 0 $`).MatchString(out) {
		t.Errorf("sig 1:\n%s", out)
	}
	m := regexp.MustCompile(`SIGNAL_STRUCT: ([0-9a-f]+)  NR_THREADS: (\d+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("sig 1 has no SIGNAL_STRUCT line:\n%s", out)
	}
	if n, _ := strconv.Atoi(m[2]); strings.Count(run(t, s, "sig -g 1"), "  SIGPENDING:") != n {
		t.Errorf("sig -g 1: not %s threads", m[2])
	}
	if got := run(t, s, "sig -s 800A000000000201"); got != "SIGHUP SIGUSR1 SIGRTMAX-14 SIGRTMAX-12 SIGRTMAX\n" {
		t.Errorf("sig -s: %q", got)
	}
	if got := run(t, s, "ipcs"); strings.Count(got, "(none allocated)") != 3 {
		t.Errorf("ipcs on a dump without IPC objects:\n%s", got)
	}
	if in := strings.TrimSpace(valueOf(run(t, s, "p init_ipc_ns.ids[2].in_use"))); in != "0" {
		t.Errorf("init_ipc_ns.ids[2].in_use = %s, ipcs found none", in)
	}
	bt := run(t, s, "bt 1")
	if !strings.Contains(bt, "do_wait") {
		t.Skipf("init is not in wait4 on this dump:\n%s", bt)
	}
	if got := run(t, s, "waitq signal_struct.wait_chldexit "+m[1]); !strings.HasPrefix(got, "PID: 1 ") {
		t.Errorf("waitq of init's wait_chldexit:\n%s", got)
	}
	if got := run(t, s, "waitq log_wait"); !strings.HasPrefix(got, "wait queue \"log_wait\" (") && !strings.HasPrefix(got, "PID:") {
		t.Errorf("waitq log_wait: %q", got)
	}
}

// TestIrqTimerSigArm64: the same walkers on the arm64 dump (6.12: the
// maple-tree sparse_irqs, three timer bases a CPU with NO_HZ off... as
// the kernel has them, 64-bit sigsets).
func TestIrqTimerSigArm64(t *testing.T) {
	d := testdump.RequireBoard(t, "arm64")
	s := openDump(t, d.Vmlinux, d.Vmcore)
	irqs, err := s.Kernel.IRQs()
	if err != nil || len(irqs) == 0 {
		t.Fatalf("arm64: %d IRQs, %v", len(irqs), err)
	}
	used := 0
	for _, q := range irqs {
		if len(q.Actions) > 0 {
			used++
		}
	}
	if used == 0 {
		t.Errorf("arm64: no IRQ has an action")
	}
	if out := run(t, s, "timer"); !strings.Contains(out, "TIMER_BASES[1]") {
		t.Errorf("arm64 timer has no CPU 1 base:\n%.2000s", out)
	}
	if out := run(t, s, "sig 1"); !strings.Contains(out, "SIGNAL_STRUCT: ") || !strings.Contains(out, "[64]") {
		t.Errorf("arm64 sig 1:\n%s", out)
	}
	// arm64's kernel has no SYSVIPC: one error line.
	var o, e bytes.Buffer
	if err := s.Exec("ipcs", &o, &e); err == nil || strings.Count(e.String(), "\n") != 1 {
		t.Errorf("arm64 ipcs without SYSVIPC: err %v, stderr %q", err, e.String())
	}
}

// TestCmdsBBadInput: bad input to kmem's new options, irq, timer, sig,
// ipcs and waitq is one error line, never a panic.
func TestCmdsBBadInput(t *testing.T) {
	s, _ := openReference(t)
	oneErrorLine(t, s, []string{
		"kmem -s nosuch_cache", "kmem -S nosuch_cache", "kmem -s 4", "kmem -v 4", "kmem -p 4", "kmem -g zz", "kmem -f 1", "kmem -P zz",
		"kmem -s a b", "kmem -i 1", "kmem -p ffffffffffff",
		"irq -z", "irq 99999", "irq zz", "irq -a -s", "timer -z", "timer -C 99", "timer -C x",
		"sig -z", "sig 999999", "sig -s zz", "sig -s", "ipcs -z", "ipcs -m -s",
		"waitq", "waitq 4", "waitq nosuch.member 0x80000000", "waitq task_struct 0x80000000", "waitq a b c",
	})
}
