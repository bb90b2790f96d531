package commands

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestKmemInfo: kmem -i's table in crash's shape, consistent with itself
// and with the kernel's counter read by another path (p).
func TestKmemInfo(t *testing.T) {
	s, _ := openReference(t)
	out := run(t, s, "kmem -i")
	rows := map[string]uint64{}
	re := regexp.MustCompile(`(?m)^ *([A-Z ]+?) +(\d+) +(\S+(?: [KMG]B)?) +(----|\d+% of [A-Z ]+)$`)
	for _, m := range re.FindAllStringSubmatch(out, -1) {
		rows[m[1]], _ = strconv.ParseUint(m[2], 10, 64)
	}
	for _, k := range []string{"TOTAL MEM", "FREE", "USED", "SHARED", "BUFFERS", "CACHED", "SLAB", "TOTAL HUGE", "HUGE FREE", "TOTAL SWAP", "SWAP USED", "SWAP FREE", "COMMIT LIMIT", "COMMITTED"} {
		if _, ok := rows[k]; !ok {
			t.Errorf("kmem -i has no %s row:\n%s", k, out)
		}
	}
	if rows["USED"] != rows["TOTAL MEM"]-rows["FREE"] || rows["FREE"] == 0 || rows["FREE"] > rows["TOTAL MEM"] {
		t.Errorf("TOTAL %d, FREE %d, USED %d", rows["TOTAL MEM"], rows["FREE"], rows["USED"])
	}
	total := valueOf(run(t, s, "p _totalram_pages.counter"))
	if strings.TrimSpace(total) != strconv.FormatUint(rows["TOTAL MEM"], 10) {
		t.Errorf("TOTAL MEM %d, _totalram_pages %s", rows["TOTAL MEM"], total)
	}
	if !strings.Contains(out, fmt.Sprintf("%d%% of TOTAL MEM", rows["FREE"]*100/rows["TOTAL MEM"])) {
		t.Errorf("FREE's percentage is not FREE*100/TOTAL:\n%s", out)
	}
}

// TestKmemAddress: kmem on init_task says it is init_task, PID 0's
// task_struct, in a reserved page at the physical address vtop gives.
func TestKmemAddress(t *testing.T) {
	s, _ := openReference(t)
	va, _ := s.Kernel.Syms.Addr("init_task")
	pa, err := s.Kernel.VirtToPhys(va)
	if err != nil {
		t.Fatal(err)
	}
	out := run(t, s, fmt.Sprintf("kmem %x", va))
	for _, want := range []string{fmt.Sprintf("%x (D) init_task\n", va), "    PID: 0\n", `COMMAND: "swapper/0"`, "  PAGE    PHYSICAL   MAPPING    INDEX CNT FLAGS\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("kmem init_task lacks %q:\n%s", want, out)
		}
	}
	page := regexp.MustCompile(`(?m)^([0-9a-f]+) +([0-9a-f]+) .* (\S*reserved\S*)$`).FindStringSubmatch(out)
	if page == nil || page[2] != fmt.Sprintf("%x", pa&^0xfff) {
		t.Errorf("kmem init_task: no reserved page at %x:\n%s", pa&^0xfff, out)
	}
	// A task's stack is named as one.
	p, _ := s.Kernel.PanicTask()
	if got := run(t, s, fmt.Sprintf("kmem %x", p.Task.Stack+64)); !strings.Contains(got, fmt.Sprintf("kernel stack of PID %d", p.Task.PID)) {
		t.Errorf("kmem of the panic task's stack:\n%s", got)
	}
}

// TestRunqMachLogFilesForeachMod: the other everyday commands, each
// against a fact of the dump found another way.
func TestRunqMachLogFilesForeachMod(t *testing.T) {
	s, _ := openReference(t)
	p, _ := s.Kernel.PanicTask()
	runq := run(t, s, "runq")
	if !strings.Contains(runq, fmt.Sprintf("  CURRENT: PID: %-6d TASK: %x  COMMAND: %q\n", p.Task.PID, p.Task.Addr, p.Task.Comm)) {
		t.Errorf("runq's CURRENT is not the panic task:\n%s", runq)
	}
	for _, m := range regexp.MustCompile(`\[\s*\d+\] PID: (\d+)`).FindAllStringSubmatch(runq, -1) {
		pid, _ := strconv.Atoi(m[1])
		if tk, err := s.Kernel.TaskByPID(pid); err != nil || tk.StateName() != "RU" {
			t.Errorf("runq queues PID %d, which is not a running task (%v)", pid, err)
		}
	}
	mach := run(t, s, "mach")
	if sysMem, machMem := sysField(run(t, s, "sys"), "MEMORY"), sysField(mach, "MEMORY SIZE"); sysMem != machMem {
		t.Errorf("mach MEMORY SIZE %q, sys MEMORY %q", machMem, sysMem)
	}
	if hz := sysField(mach, "HZ"); hz != "100" && hz != "250" && hz != "300" && hz != "1000" {
		t.Errorf("mach HZ %q", hz)
	}
	base := sysField(mach, "KERNEL VIRTUAL BASE")
	if pa, err := s.Kernel.VirtToPhys(mustHex(t, base)); err != nil || run(t, s, fmt.Sprintf("ptov %x", pa)) != fmt.Sprintf("VIRTUAL   PHYSICAL\n%-8s  %x\n", base, pa) {
		t.Errorf("KERNEL VIRTUAL BASE %s does not map back through ptov (%v)", base, err)
	}
	// log -T: the first record at the boot's second, crash time less uptime.
	date := sysField(run(t, s, "sys"), "DATE")
	human := strings.Split(run(t, s, "log -T"), "\n")
	plain := strings.Split(run(t, s, "log"), "\n")
	if len(human) != len(plain) || !strings.HasPrefix(human[0], "[") {
		t.Errorf("log -T has %d lines, log %d", len(human), len(plain))
	}
	crashed, _ := s.Kernel.CrashTime()
	up, _ := s.Kernel.Uptime()
	recs, _ := s.Printk()
	lastTS := time.Duration(recs[len(recs)-1].TimeNS/1e9) * time.Second
	want := crashed.Add(-time.Duration(int64(up))*time.Second + lastTS).Format("[Mon Jan _2 15:04:05 MST 2006] ")
	if last := human[len(human)-2]; !strings.HasPrefix(last, want) {
		t.Errorf("log -T's last record %q, want it at %q (DATE %s)", last, want, date)
	}
	if tl := strings.Split(run(t, s, "log -t"), "\n"); tl[0] != strings.SplitN(plain[0], "] ", 2)[1] {
		t.Errorf("log -t's first line %q, log's %q", tl[0], plain[0])
	}
	// files: the panic task crashed the kernel by writing sysrq-trigger.
	if f := run(t, s, "files"); !regexp.MustCompile(`(?m)^ +\d+  [0-9a-f]+  [0-9a-f]+  [0-9a-f]+  REG   /proc/sysrq-trigger$`).MatchString(f) {
		t.Errorf("files of the panic task has no /proc/sysrq-trigger:\n%s", f)
	}
	// foreach RU: the running tasks ps lists.
	var ru []string
	rows, _ := s.PS()
	for _, r := range rows {
		if r.State == "RU" {
			ru = append(ru, fmt.Sprintf("  pid = %d,", r.PID))
		}
	}
	got := regexp.MustCompile(`(?m)^  pid = \d+,$`).FindAllString(run(t, s, "foreach RU task -R pid"), -1)
	if strings.Join(got, "\n") != strings.Join(ru, "\n") {
		t.Errorf("foreach RU task -R pid = %v, ps's RU tasks %v", got, ru)
	}
	mods := run(t, s, "mod")
	if empty := run(t, s, "list -H modules") == "(empty)\n"; empty != (mods == "no modules installed\n") {
		t.Errorf("mod %q, but list -H modules empty = %v", mods, empty)
	}
}

func mustHex(t *testing.T, s string) uint64 {
	v, err := strconv.ParseUint(s, 16, 64)
	if err != nil {
		t.Fatalf("%q is not hex", s)
	}
	return v
}

// TestSearch: search finds the word that links the task list back to
// init_task (the last leader's tasks.next), the panic string among the
// kernel's strings, and stays inside -s/-l.
func TestSearch(t *testing.T) {
	s, _ := openReference(t)
	initTask, _ := s.Kernel.Syms.Addr("init_task")
	off, _ := s.Kernel.Types.Offset("struct task_struct", "tasks")
	head := initTask + uint64(off)
	prev, err := s.Kernel.ReadPtr(head + 4) // tasks.prev: the last leader's tasks
	if err != nil {
		t.Fatal(err)
	}
	out := run(t, s, fmt.Sprintf("search %x", head))
	if !strings.Contains(out, fmt.Sprintf("%x: %08x \n", prev, head)) {
		t.Errorf("search %x lacks %x (the last task's tasks.next):\n%.2000s", head, prev, out)
	}
	if got := run(t, s, `search -c "sysrq triggered crash"`); !regexp.MustCompile(`(?m)^[0-9a-f]+: sysrq triggered crash`).MatchString(got) {
		t.Errorf("search -c: %q", got)
	}
	ranged := run(t, s, fmt.Sprintf("search -s %x -l 64 0", initTask))
	for _, l := range strings.Split(strings.TrimSpace(ranged), "\n") {
		a := mustHex(t, strings.SplitN(strings.TrimSpace(l), ":", 2)[0])
		if a < initTask || a >= initTask+64 || a%4 != 0 {
			t.Errorf("search -s init_task -l 64: %q outside the range or unaligned", l)
		}
	}
}

// TestMountAndLeaders: mount lists the root and the pseudo file systems
// u-root's init mounts, each row's super block being its mount's
// mnt.mnt_sb read through p; ps -G keeps one row a process.
func TestMountAndLeaders(t *testing.T) {
	s, _ := openReference(t)
	out := run(t, s, "mount")
	row := regexp.MustCompile(`(?m)^([0-9a-f]{8}) ([0-9a-f]{8}) +(\S+) +(\S+) +(\S+) *$`)
	dirs := map[string]bool{}
	for _, m := range row.FindAllStringSubmatch(out, -1) {
		dirs[m[5]] = true
		sb := valueOf(run(t, s, "p ((struct mount *)0x"+m[1]+")->mnt.mnt_sb"))
		if !strings.Contains(sb, "0x"+m[2]) {
			t.Errorf("mount %s: SUPERBLK %s, mnt.mnt_sb %s", m[1], m[2], sb)
		}
	}
	for _, d := range []string{"/", "/proc", "/dev", "/sys"} {
		if !dirs[d] {
			t.Errorf("mount lacks %s:\n%s", d, out)
		}
	}
	tasks, _ := s.Kernel.Tasks()
	n := 0
	for _, tk := range tasks {
		if tk.PID == tk.TGID {
			n++
		}
	}
	if got := strings.Count(run(t, s, "ps -G"), "\n") - 1; got != n {
		t.Errorf("ps -G: %d rows, %d processes", got, n)
	}
	// swap: one row an area; the vexpress board has no swap
	// (total_swap_pages 0), so the header alone.
	swapRows := strings.Count(run(t, s, "swap"), "\n") - 1
	if total := strings.TrimSpace(valueOf(run(t, s, "p total_swap_pages"))); (total == "0") != (swapRows == 0) {
		t.Errorf("swap: %d areas, total_swap_pages %s", swapRows, total)
	}
}

// TestVM: vm walks each process's maple tree; the VMAs it finds are as
// many as the mm's map_count says and cover total_vm pages, both counted
// by the kernel apart from the tree.
func TestVM(t *testing.T) {
	s, _ := openReference(t)
	tasks, _ := s.Kernel.Tasks()
	checked := 0
	for _, tk := range tasks {
		if tk.MM == 0 || tk.PID != tk.TGID {
			continue
		}
		vmas, err := s.Kernel.VMAs(tk)
		if err != nil {
			t.Errorf("PID %d: %v", tk.PID, err)
			continue
		}
		count := strings.TrimSpace(valueOf(run(t, s, fmt.Sprintf("p ((struct mm_struct *)%#x)->map_count", tk.MM))))
		var pages uint64
		for i, v := range vmas {
			if v.End <= v.Start || (i > 0 && v.Start < vmas[i-1].End) {
				t.Errorf("PID %d: VMA %d %x-%x overlaps or is empty", tk.PID, i, v.Start, v.End)
			}
			pages += (v.End - v.Start) / s.Kernel.PageSize()
		}
		if strconv.Itoa(len(vmas)) != count || pages != tk.Total {
			t.Errorf("PID %d: %d VMAs of %d pages; map_count %s, total_vm %d", tk.PID, len(vmas), pages, count, tk.Total)
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("no user process: the test proves nothing")
	}
	out := run(t, s, "vm")
	if !strings.Contains(out, "  VMA       START      END    FLAGS  FILE\n") || !regexp.MustCompile(`(?m) /\S+$`).MatchString(out) {
		t.Errorf("vm of the panic task names no mapped file:\n%s", out)
	}
}
