package commands

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/kdumpkit/kdumpkit/internal/testdump"
)

// hexLines parses output lines that are one hex address each.
func hexLines(t *testing.T, out string) []uint64 {
	t.Helper()
	var as []uint64
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		a, err := strconv.ParseUint(l, 16, 64)
		if err != nil {
			t.Fatalf("line %q is not an address", l)
		}
		as = append(as, a)
	}
	return as
}

// TestTreeAgainstLists: the tree walks find what the kernel also keeps
// apart from each tree. vmap_area_root's red-black tree in order holds
// the vmap_areas of vmap_area_list, in the same (address) order; its
// default order (node first) is a permutation of it. init_pid_ns's IDR
// (an XArray) maps each index to the struct pid whose numbers[0].nr is
// that index, one for each task that leads its own PID (every task but
// the idle ones). Init's mm_mt (a maple tree) holds vm's VMAs, each over
// [vm_start, vm_end-1].
func TestTreeAgainstLists(t *testing.T) {
	s, _ := openReference(t)
	linear := hexLines(t, run(t, s, "tree -l -t rbtree -o vmap_area.rb_node vmap_area_root"))
	listed := hexLines(t, run(t, s, "list -H vmap_area_list -o vmap_area.list"))
	if fmt.Sprint(linear) != fmt.Sprint(listed) || len(linear) < 10 {
		t.Errorf("vmap_area tree in order (%d) differs from vmap_area_list (%d)", len(linear), len(listed))
	}
	pre := hexLines(t, run(t, s, "tree -t rb -o vmap_area.rb_node vmap_area_root"))
	sorted := append([]uint64(nil), pre...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	inOrder := append([]uint64(nil), linear...)
	sort.Slice(inOrder, func(i, j int) bool { return inOrder[i] < inOrder[j] })
	if fmt.Sprint(sorted) != fmt.Sprint(inOrder) || pre[0] == linear[0] {
		t.Errorf("node-first order is not a permutation of the in-order walk starting at the root (first %x, in order %x)", pre[0], linear[0])
	}
	// -x prints -s's integers in hex: the same values.
	dec := regexp.MustCompile(`va_start = (\d+),`).FindAllStringSubmatch(run(t, s, "tree -l -t rb -o vmap_area.rb_node vmap_area_root -s vmap_area.va_start"), -1)
	hex := regexp.MustCompile(`va_start = 0x([0-9a-f]+),`).FindAllStringSubmatch(run(t, s, "tree -l -x -t rb -o vmap_area.rb_node vmap_area_root -s vmap_area.va_start"), -1)
	if len(dec) != len(linear) || len(hex) != len(linear) {
		t.Errorf("tree -s: %d decimal and %d hex va_start for %d nodes", len(dec), len(hex), len(linear))
	}
	for i := 0; i < len(dec) && i < len(hex); i++ {
		d, _ := strconv.ParseUint(dec[i][1], 10, 64)
		h, _ := strconv.ParseUint(hex[i][1], 16, 64)
		if d != h || i > 0 && d <= prevStart(dec[i-1][1]) {
			t.Errorf("node %d: va_start %s, -x %s (in order after %s)", i, dec[i][1], hex[i][1], dec[max(i-1, 0)][1])
		}
	}
	if pos := run(t, s, "tree -p -t rbtree -o vmap_area.rb_node vmap_area_root"); !strings.Contains(pos, "  position: root\n") || !strings.Contains(pos, "  position: root/l/r") {
		t.Errorf("tree -p: no root/l/r positions:\n%.300s", pos)
	}

	out := run(t, s, "tree -t xarray -p -r pid_namespace.idr init_pid_ns")
	m := regexp.MustCompile(`(?m)^([0-9a-f]+)\n  index: (\d+)  position: root(/\d+)+$`).FindAllStringSubmatch(out, -1)
	if len(m) == 0 || len(m) != strings.Count(out, "index:") {
		t.Fatalf("tree -t xarray -p: %d entries parsed of\n%s", len(m), out)
	}
	nrOff, err := s.Kernel.Types.Offset("struct pid", "numbers[0].nr")
	if err != nil {
		t.Fatal(err)
	}
	tasks, _ := s.Kernel.Tasks()
	leaders := map[int]bool{}
	for _, tk := range tasks {
		if tk.PID != 0 {
			leaders[tk.PID] = true
		}
	}
	for _, e := range m {
		pid, _ := strconv.ParseUint(e[1], 16, 64)
		nr, err := s.Kernel.ReadUint(pid+uint64(nrOff), 4)
		if err != nil || strconv.FormatUint(nr, 10) != e[2] {
			t.Errorf("IDR index %s holds struct pid %s with nr %d (%v)", e[2], e[1], nr, err)
		}
		idx, _ := strconv.Atoi(e[2])
		delete(leaders, idx)
	}
	if len(leaders) != 0 {
		t.Errorf("PIDs of tasks missing from the IDR: %v", leaders)
	}

	init, err := s.Kernel.TaskByPID(1)
	if err != nil {
		t.Fatal(err)
	}
	vmas, err := s.Kernel.VMAs(init)
	if err != nil || len(vmas) < 5 {
		t.Fatalf("init's VMAs: %d, %v", len(vmas), err)
	}
	maple := run(t, s, fmt.Sprintf("tree -t maple -p -r mm_struct.mm_mt %x", init.MM))
	var want strings.Builder
	for _, v := range vmas {
		fmt.Fprintf(&want, "%x\n", v.Addr)
	}
	got := regexp.MustCompile(`(?m)^  .*\n`).ReplaceAllString(maple, "")
	if got != want.String() {
		t.Errorf("maple tree entries:\n%s\nVMAs:\n%s", got, want.String())
	}
	for _, v := range vmas {
		if !strings.Contains(maple, fmt.Sprintf("%x\n  index: %d-%d  position: root/", v.Addr, v.Start, v.End-1)) {
			t.Errorf("VMA %x [%x, %x) not shown over its range in\n%s", v.Addr, v.Start, v.End, maple)
			break
		}
	}
}

// TestBtFSlab: bt -F names the stack words that point into slab objects
// by their cache; bt -FF gives the object too. The panic task's stack
// holds its own task_struct pointer (vfs_write's frame passes current
// along): that word must be named [task_struct], and with -FF the object
// must be the task itself. Words named by symbol are those bt -f prints
// as values inside a symbol.
func TestBtFSlab(t *testing.T) {
	s, _ := openReference(t)
	p, err := s.Kernel.PanicTask()
	if err != nil {
		t.Fatal(err)
	}
	task := fmt.Sprintf("%x", p.Task.Addr)
	f, ff := run(t, s, "bt -F"), run(t, s, "bt -FF")
	if !strings.Contains(f, " [task_struct]") || !strings.Contains(ff, " ["+task+":task_struct]") {
		t.Errorf("bt -F/-FF: the panic task %s is not named as a task_struct object:\n%s", task, ff)
	}
	s.JSON = true
	defer func() { s.JSON = false }()
	var bts []BT
	if err := json.Unmarshal([]byte(run(t, s, "bt -F")), &bts); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, fr := range bts[0].Frames {
		for i, v := range fr.Words {
			name := fr.WordNames[i]
			switch {
			case name == "":
				if sym := s.symbolAt(v); sym != "" {
					t.Errorf("word %x unnamed, but inside %s", v, sym)
				}
			case strings.HasPrefix(name, "["):
				o, err := s.Kernel.SlabObjectAt(v)
				if err != nil || "["+o.Cache+"]" != name || o.Object > v {
					t.Errorf("word %x named %s: slab lookup %+v, %v", v, name, o, err)
				}
				n++
			default:
				if s.symbolAt(v) != name {
					t.Errorf("word %x named %s, symbol %q", v, name, s.symbolAt(v))
				}
			}
		}
	}
	if n < 3 {
		t.Errorf("only %d stack words point into slab objects", n)
	}
}

// TestBtERawStack: bt -e finds the user-mode frame that the syscall
// entry left at the top of the panic task's stack, with the registers bt
// prints for ret_fast_syscall's frame, and the crash registers of frame
// #0; bt -r prints the whole stack, one line per 16 bytes from
// task->stack, and the stack words bt -f shows.
func TestBtERawStack(t *testing.T) {
	s, _ := openReference(t)
	e := run(t, s, "bt -e")
	bt := run(t, s, "bt")
	_, userRegs, ok := strings.Cut(bt, "ret_fast_syscall at ")
	if !ok {
		t.Fatalf("bt has no syscall frame:\n%s", bt)
	}
	userRegs = userRegs[strings.Index(userRegs, "\n")+1:]
	if !strings.Contains(e, "\nUSER-MODE EXCEPTION FRAME AT: ") || !strings.Contains(e, userRegs) {
		t.Errorf("bt -e:\n%s\nlacks the user frame of bt:\n%s", e, userRegs)
	}
	// crash_setup_regs' copy of the registers at the panic is a
	// pt_regs on the stack too: the crash registers bt prints for
	// frame #0, from the CPU note.
	_, crashRegs, _ := strings.Cut(bt, "\n #0 ")
	crashRegs = crashRegs[strings.Index(crashRegs, "\n")+1 : strings.Index(crashRegs, "\n #1 ")+1]
	if !strings.Contains(e, "\nKERNEL-MODE EXCEPTION FRAME AT: ") || !strings.Contains(e, crashRegs) {
		t.Errorf("bt -e:\n%s\nlacks the crash registers of bt:\n%s", e, crashRegs)
	}
	p, _ := s.Kernel.PanicTask()
	raw := run(t, s, "bt -r")
	lines := strings.Split(strings.TrimSuffix(raw, "\n"), "\n")
	size := s.Kernel.StackSize()
	if uint64(len(lines)-1) != size/16 || !strings.HasPrefix(lines[1], fmt.Sprintf("%x:  ", p.Task.Stack)) {
		t.Errorf("bt -r: %d lines, first %q; want %d from %x", len(lines)-1, lines[1], size/16, p.Task.Stack)
	}
	// bt -r's words are bt -f's, by name where rd -s names them.
	rawWords := map[uint64]string{}
	for _, l := range lines[1:] {
		at, words, _ := strings.Cut(l, ":  ")
		a, _ := strconv.ParseUint(at, 16, 64)
		for i, w := range strings.Fields(words) {
			rawWords[a+uint64(4*i)] = w
		}
	}
	f := run(t, s, "bt -f")
	for _, m := range regexp.MustCompile(`(?m)^    ([0-9a-f]{8}):((?: [0-9a-f]{8})+)$`).FindAllStringSubmatch(f, -1) {
		a, _ := strconv.ParseUint(m[1], 16, 64)
		for i, w := range strings.Fields(m[2]) {
			v, _ := strconv.ParseUint(w, 16, 64)
			if got := rawWords[a+uint64(4*i)]; got != w && got != s.symbolAt(v) {
				t.Errorf("bt -r at %x: %q, bt -f %s", a+uint64(4*i), got, w)
			}
		}
	}
	// Every sleeping task's stack starts at __switch_to's saved frame;
	// bt -e over all of them finds only frames the arch accepts, each
	// inside the stack.
	tasks, _ := s.Kernel.Tasks()
	frames := 0
	for _, tk := range tasks {
		fs, err := s.Kernel.ExceptionFrames(tk)
		if err != nil {
			t.Errorf("PID %d: %v", tk.PID, err)
		}
		for _, f := range fs {
			if f.Addr < tk.Stack || f.Addr >= tk.Stack+size {
				t.Errorf("PID %d: frame %x outside its stack %x", tk.PID, f.Addr, tk.Stack)
			}
			if !f.User && !s.Kernel.IsText(f.Regs[15]) {
				t.Errorf("PID %d: kernel frame %x with pc %x outside text", tk.PID, f.Addr, f.Regs[15])
			}
		}
		frames += len(fs)
	}
	t.Logf("%d exception frames on %d stacks", frames, len(tasks))
}

// TestPSTimes: ps -t, -l, -m and -S on the dump. -t's START TIME is
// task_struct.start_time and the tasks come oldest first; RUN TIME is
// crash's uptime less start in whole seconds. -l's stamps fall, -m's
// deltas rise, both over every task; -S's counts add up to ps's rows
// per state.
func TestPSTimes(t *testing.T) {
	s, _ := openReference(t)
	tasks, _ := s.Kernel.Tasks()
	out := run(t, s, "ps -t")
	starts := regexp.MustCompile(`(?m)^  START TIME: (\d+)$`).FindAllStringSubmatch(out, -1)
	if len(starts) != len(tasks) {
		t.Fatalf("ps -t: %d tasks, ps %d", len(starts), len(tasks))
	}
	prev := uint64(0)
	for _, m := range starts {
		v, _ := strconv.ParseUint(m[1], 10, 64)
		if v < prev {
			t.Errorf("ps -t: start %d after %d", v, prev)
		}
		prev = v
	}
	one := run(t, s, "ps -t 1")
	init, _ := s.Kernel.TaskByPID(1)
	tt, err := s.Kernel.Times(init)
	if err != nil {
		t.Fatal(err)
	}
	hz, _ := s.Kernel.HZ()
	up, _ := s.Kernel.UptimeJiffies()
	want := fmt.Sprintf("%s\n    RUN TIME: %s\n  START TIME: %d\n       UTIME: %d\n       STIME: %d\n\n",
		taskHeader(init), formatUptime(float64((up-tt.Start/1e9*hz)/hz)), tt.Start, tt.UTime, tt.STime)
	if one != want || tt.UTime+tt.STime == 0 {
		t.Errorf("ps -t 1:\n%s\nwant\n%s", one, want)
	}

	l := regexp.MustCompile(`(?m)^\[ *(\d+)\] \[(\w\w)\]  PID: `).FindAllStringSubmatch(run(t, s, "ps -l"), -1)
	ms := regexp.MustCompile(`(?m)^\[(\d+) (\d\d):(\d\d):(\d\d)\.(\d{3})\] \[(\w\w)\]  PID: `).FindAllStringSubmatch(run(t, s, "ps -m"), -1)
	if len(l) != len(tasks) || len(ms) != len(tasks) {
		t.Fatalf("ps -l %d rows, ps -m %d, tasks %d", len(l), len(ms), len(tasks))
	}
	last, since := ^uint64(0), int64(-1)
	for i := range l {
		v, _ := strconv.ParseUint(l[i][1], 10, 64)
		d := ms[i]
		ns := int64(0)
		for j, unit := range []int64{86400000, 3600000, 60000, 1000, 1} {
			n, _ := strconv.ParseInt(d[j+1], 10, 64)
			ns += n * unit
		}
		if v > last || ns < since {
			t.Errorf("ps -l/-m row %d: stamp %d after %d, since %d ms after %d", i, v, last, ns, since)
		}
		last, since = v, ns
	}

	// -C: one block per CPU with that CPU's rows of the plain listing.
	for _, opt := range []string{"-l", "-m"} {
		all := strings.Split(run(t, s, "ps "+opt), "\n")
		byCPU := run(t, s, "ps -C all "+opt)
		var want strings.Builder
		for i, c := range s.Kernel.CPUs {
			if i > 0 {
				want.WriteString("\n")
			}
			fmt.Fprintf(&want, "CPU: %d\n", c.CPU)
			for _, l := range all {
				if strings.Contains(l, fmt.Sprintf("  CPU: %-3d ", c.CPU)) {
					want.WriteString(l + "\n")
				}
			}
		}
		if byCPU != want.String() {
			t.Errorf("ps -C all %s:\n%s\nwant\n%s", opt, byCPU, want.String())
		}
	}

	var rows []PSEntry
	s.JSON = true
	err = json.Unmarshal([]byte(run(t, s, "ps")), &rows)
	s.JSON = false
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, r := range rows {
		count[r.State]++
	}
	var sum bytes.Buffer
	for _, m := range regexp.MustCompile(`(?m)^  (\w\w): (\d+)$`).FindAllStringSubmatch(run(t, s, "ps -S"), -1) {
		if strconv.Itoa(count[m[1]]) != m[2] {
			t.Errorf("ps -S %s: %s, ps has %d", m[1], m[2], count[m[1]])
		}
		delete(count, m[1])
		sum.WriteString(m[1])
	}
	if len(count) != 0 || !strings.HasPrefix(sum.String(), "RU") {
		t.Errorf("ps -S misses states %v (order %s)", count, sum.String())
	}
}

// TestCmdsABadInput: the options added here answer bad input with one
// error line: a wild or unmapped root, an unknown member, a tree that
// does not exist, a task that does not exist.
func TestCmdsABadInput(t *testing.T) {
	s, _ := openReference(t)
	oneErrorLine(t, s, []string{
		"tree", "tree -t", "tree -t nosuch 0", "tree -z 0", "tree 4", "tree -N 4", "tree -t xarray 4", "tree -t maple 4",
		"tree -t maple -N 4", "tree -o nosuch.member vmap_area_root", "tree -r vmap_area.nosuch vmap_area_root",
		"tree -t xarray -l init_pid_ns", "tree -s nosuch vmap_area_root", "tree a b", "tree -N -r 4 vmap_area_root",
		"tree -t xarray -N linux_banner", "tree -t maple -N 0x80000002",
		"bt -e 999999", "bt -r 999999", "bt -F 999999", "bt -FFF",
		"ps -t 999999", "ps -l nosuch", "ps -m 999999", "ps -S nosuch", "ps -C 0", "ps -m -C 5", "ps -l -C 0-x", "ps -m -C",
	})
}

// TestBtEArm64: on the arm64 dump the crash IPI interrupted the idle
// task in the kernel (el1h_64_irq). bt -e, which does not unwind, must
// find the same pt_regs at the same place: for every frame bt shows
// registers for at an el1h_64_* entry, bt -e of that task shows a
// KERNEL-MODE frame at the frame's sp with the same register lines. Each
// user task has its one USER-MODE frame at the top of its stack.
func TestBtEArm64(t *testing.T) {
	d := testdump.RequireBoard(t, "arm64")
	s := openDump(t, d.Vmlinux, d.Vmcore)
	tasks, _ := s.Kernel.Tasks()
	entry := regexp.MustCompile(`(?m)^ *#\d+ \[([0-9a-f]+)\] el1h_64_\w+ at [0-9a-f]+\n((?:    .*\n)+)`)
	kernelFrames := 0
	for _, tk := range tasks {
		pid := strconv.Itoa(tk.PID)
		if tk.PID == 0 {
			pid = fmt.Sprintf("%x", tk.Addr)
		}
		e := run(t, s, "bt -e "+pid)
		for _, m := range entry.FindAllStringSubmatch(run(t, s, "bt "+pid), -1) {
			if !strings.Contains(e, "\nKERNEL-MODE EXCEPTION FRAME AT: "+m[1]+"\n"+m[2]) {
				t.Errorf("PID %d: bt's exception frame at %s is not bt -e's:\n%s\nbt -e:\n%s", tk.PID, m[1], m[2], e)
			}
			kernelFrames++
		}
		if user := strings.Count(e, "USER-MODE EXCEPTION FRAME"); tk.IsKernelThread() && user != 0 || !tk.IsKernelThread() && user != 1 {
			t.Errorf("PID %d (kernel thread %v): %d user-mode frames", tk.PID, tk.IsKernelThread(), user)
		}
	}
	if kernelFrames == 0 {
		t.Error("no el1h_64 exception frame in any backtrace: the dump no longer shows the IPI's frame")
	}
}

// TestBtFFArm64: on the arm64 dump (6.12, where a slab page is known by
// page_type's PGTY_slab, no longer by a page flag) bt -FF names the
// stack words that point at the panic task as its task_struct object.
func TestBtFFArm64(t *testing.T) {
	d := testdump.RequireBoard(t, "arm64")
	s := openDump(t, d.Vmlinux, d.Vmcore)
	p, err := s.Kernel.PanicTask()
	if err != nil {
		t.Fatal(err)
	}
	if ff := run(t, s, "bt -FF"); !strings.Contains(ff, fmt.Sprintf(" [%x:task_struct]", p.Task.Addr)) {
		t.Errorf("bt -FF does not name the panic task %x:\n%s", p.Task.Addr, ff)
	}
}

func prevStart(s string) uint64 {
	v, _ := strconv.ParseUint(s, 10, 64)
	return v
}
