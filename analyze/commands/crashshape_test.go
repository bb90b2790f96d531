package commands

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The tests of this file check, on the real dump, the places where the
// analyzer disagreed with crash 8.0.2 on the same dump (issue 11).

// TestPSRSSOverThreads: every thread of a process shows one RSS, the
// mm's counters plus the unsynced deltas of all its threads; each thread
// alone showed a different figure before.
func TestPSRSSOverThreads(t *testing.T) {
	s, _ := openReference(t)
	rows, _ := s.PS()
	tasks, _ := s.Kernel.Tasks()
	mmOf := map[int]uint64{}
	for _, tk := range tasks {
		mmOf[tk.PID] = tk.MM
	}
	byMM := map[uint64][]PSEntry{}
	for _, r := range rows {
		if mm := mmOf[r.PID]; mm != 0 {
			byMM[mm] = append(byMM[mm], r)
		}
	}
	multi := 0
	for mm, rs := range byMM {
		if len(rs) > 1 {
			multi++
		}
		for _, r := range rs {
			if r.RSSKB != rs[0].RSSKB || r.ShmemKB != rs[0].ShmemKB {
				t.Errorf("mm %#x: PID %d RSS %d (shmem %d) kB, PID %d %d (%d) kB", mm, rs[0].PID, rs[0].RSSKB, rs[0].ShmemKB, r.PID, r.RSSKB, r.ShmemKB)
			}
			if r.RSSKB == 0 || r.ShmemKB > r.RSSKB {
				t.Errorf("PID %d: RSS %d kB, shmem %d kB", r.PID, r.RSSKB, r.ShmemKB)
			}
		}
	}
	if multi == 0 {
		t.Fatal("no process with several threads in the dump: the test proves nothing")
	}
}

// TestPSChildrenWithThreads: ps -c lists every task whose parent is the
// given one, threads included, as crash does.
func TestPSChildrenWithThreads(t *testing.T) {
	s, _ := openReference(t)
	p, err := s.Kernel.PanicTask()
	if err != nil {
		t.Fatal(err)
	}
	tasks, _ := s.Kernel.Tasks()
	var want []string
	for _, tk := range tasks {
		if tk.Parent == p.Task.Parent && tk.Addr != p.Task.Parent {
			want = append(want, "  "+taskHeader(tk))
		}
	}
	if len(want) < 2 {
		t.Fatalf("the panic task's parent has %d children: the test proves nothing", len(want))
	}
	out := run(t, s, "ps -c "+itoa(p.Task.PPID))
	got := strings.Split(strings.TrimRight(out, "\n"), "\n")[1:]
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("ps -c %d:\n%s\nwant children:\n%s", p.Task.PPID, out, strings.Join(want, "\n"))
	}
}

// TestSysTaintAndPanicLine: sys marks a tainted kernel [TAINTED] and
// prints the panic line whole; sys -t spells the mask with the letters the
// console's "Tainted:" field shows.
func TestSysTaintAndPanicLine(t *testing.T) {
	s, dir := openReference(t)
	con, err := os.ReadFile(filepath.Join(dir, "console.log"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`Comm: \S+ .*Tainted: ([A-Z ]+?)\s+\d`).FindSubmatch(con)
	if m == nil {
		t.Skip("console shows an untainted kernel: nothing to compare")
	}
	letters := strings.NewReplacer(" ", "", "G", "").Replace(string(m[1]))
	out := run(t, s, "sys")
	if !regexp.MustCompile(`(?m)^\s+KERNEL: \S+  \[TAINTED\]$`).MatchString(out) {
		t.Errorf("sys does not mark the kernel tainted:\n%s", out)
	}
	want := readConsole(t, dir)
	if !strings.Contains(out, `PANIC: "Kernel panic - not syncing: `+want.panicMsg+`"`) {
		t.Errorf("sys PANIC is not the whole panic line %q:\n%s", want.panicMsg, out)
	}
	out = run(t, s, "sys -t")
	if !regexp.MustCompile(`^TAINTED_MASK: [0-9a-f]+  ` + letters + "\n$").MatchString(out) {
		t.Errorf("sys -t = %q, want the letters %q", out, letters)
	}
	var js map[string]any
	s.JSON = true
	if err := json.Unmarshal([]byte(run(t, s, "sys")), &js); err != nil || js["taint_flags"] != letters {
		t.Errorf("sys --json taint_flags = %v (%v)", js["taint_flags"], err)
	}
}

// TestSymLetters: sym prints nm's letter from the ELF symbol's section and
// binding, as crash 8.0.2 printed them on this kernel: a static function
// is t, a global one T, a weak one W, the linker's absolute swapper_pg_dir A.
func TestSymLetters(t *testing.T) {
	s, _ := openReference(t)
	for name, want := range map[string]string{
		"ret_fast_syscall": "t", "schedule": "T", "calibration_delay_done": "W",
		"swapper_pg_dir": "A", "init_task": "D", "jiffies_64": "D",
	} {
		out := run(t, s, "sym "+name)
		if !strings.Contains(out, " ("+want+") "+name+"\n") && !strings.Contains(out, " ("+want+") "+name+" /") {
			t.Errorf("sym %s = %q, want type %s", name, out, want)
		}
	}
}

// TestHelpForEveryCommand: help CMD has a page for every command of the
// table, and the page names the command.
func TestHelpForEveryCommand(t *testing.T) {
	pages := helpPages()
	for name := range commandTable() {
		page, ok := pages[name]
		if !ok {
			t.Errorf("help %s: no page", name)
			continue
		}
		if !strings.Contains(page, "  "+name+" ") {
			t.Errorf("help %s: the page does not name the command:\n%s", name, page)
		}
	}
}

// TestScrollPager: with scroll on, a command's output goes through the
// pager; set scroll off, a pipe or a redirect bypass it.
func TestScrollPager(t *testing.T) {
	s := &Session{Scroll: true, Pager: "sed s/^/PAGED:/"}
	var out, errw bytes.Buffer
	if err := s.Exec("help", &out, &errw); err != nil {
		t.Fatal(err, errw.String())
	}
	if !strings.HasPrefix(out.String(), "PAGED:") {
		t.Errorf("scroll on: output not paged:\n%s", out.String())
	}
	out.Reset()
	if err := s.Exec("help | head -1", &out, &errw); err != nil || strings.Contains(out.String(), "PAGED:") {
		t.Errorf("a pipe went through the pager: %v %q", err, out.String())
	}
	out.Reset()
	if err := s.Exec("set scroll off; help", &out, &errw); err != nil || strings.Contains(out.String(), "PAGED:help") || !strings.HasPrefix(out.String(), "PAGED:scroll: off") {
		t.Errorf("set scroll off: %v\n%s", err, out.String())
	}
	out.Reset()
	if err := s.Exec("help", &out, &errw); err != nil || strings.Contains(out.String(), "PAGED:") {
		t.Errorf("after set scroll off the output is still paged:\n%s", out.String())
	}
	if err := s.Exec("set scroll sideways", &out, &errw); err == nil {
		t.Error("set scroll sideways was accepted")
	}
}

// TestNet: net lists the loopback device with 127.0.0.1, in crash's
// columns, and each device address is a net_device whose name matches.
func TestNet(t *testing.T) {
	s, _ := openReference(t)
	out := run(t, s, "net")
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if lines[0] != "NET_DEVICE  NAME   IP ADDRESS(ES)" {
		t.Errorf("net header %q", lines[0])
	}
	row := regexp.MustCompile(`^ ([0-9a-f]{8})   (\S+) +(.*)$`)
	sawLo := false
	for _, l := range lines[1:] {
		m := row.FindStringSubmatch(l)
		if m == nil {
			t.Errorf("net row %q", l)
			continue
		}
		name := run(t, s, "p ((struct net_device *)0x"+m[1]+")->name")
		if !strings.Contains(name, `"`+m[2]+`\000`) {
			t.Errorf("net says %s is %s, its name is %s", m[1], m[2], name)
		}
		if m[2] == "lo" {
			sawLo = strings.TrimSpace(m[3]) == "127.0.0.1"
		}
	}
	if !sawLo {
		t.Errorf("no lo with 127.0.0.1:\n%s", out)
	}
}

// TestUptimeFromJiffies: sys's uptime is crash's, (jiffies_64 -
// INITIAL_JIFFIES) / HZ with HZ from tick_nsec, here recomputed from the
// two variables read through p. (The timekeeper's boot clock is no
// check: under QEMU a tickless kernel's jiffies and tk_core drift apart
// by more than a second either way; the oracle test checks the figure
// against crash's.)
func TestUptimeFromJiffies(t *testing.T) {
	s, _ := openReference(t)
	j, err := strconv.ParseUint(strings.TrimSpace(valueOf(run(t, s, "p jiffies_64"))), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	tick, err := strconv.ParseUint(strings.TrimSpace(valueOf(run(t, s, "p tick_nsec"))), 10, 64)
	if err != nil || tick == 0 {
		t.Fatalf("tick_nsec %d, %v", tick, err)
	}
	hz := (1e9 + tick/2) / tick
	if got, err := s.Kernel.HZ(); err != nil || got != hz || (hz != 100 && hz != 250 && hz != 300 && hz != 1000) {
		t.Errorf("HZ = %d (%v), tick_nsec says %d", got, err, hz)
	}
	want := float64(j-uint64(uint32(-300*int64(hz)))) / float64(hz)
	up, err := s.Kernel.Uptime()
	if err != nil || up != want || up <= 0 {
		t.Errorf("uptime %.2f s (%v), want %.2f", up, err, want)
	}
}

// TestRedirectArrow: C's "->" in an expression is not a redirect.
func TestRedirectArrow(t *testing.T) {
	for line, want := range map[string][2]string{
		"p a->b":         {"p a->b", ""},
		"p a->b > f":     {"p a->b ", "f"},
		"p a->b->c >> f": {"p a->b->c ", "f"},
		"ps > f":         {"ps ", "f"},
		`p "x>y"`:        {`p "x>y"`, ""},
		"p a-> b":        {"p a-> b", ""},
	} {
		cmd, target, _, err := redirect(line)
		if err != nil || cmd != want[0] || target != want[1] {
			t.Errorf("redirect(%q) = %q, %q, %v; want %q, %q", line, cmd, target, err, want[0], want[1])
		}
	}
}
