package commands

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/kdumpkit/kdumpkit/internal/crashoracle"
	"github.com/kdumpkit/kdumpkit/internal/testdump"
)

// TestOracleCrash runs crash 8.0.2 itself (Debian's armhf build under
// qemu-arm-static, package crashoracle) on the test dump and compares its
// values with ours, command by command. It skips, saying how to install
// it, where crash is not installed. Where crash 8.0.2 is wrong on this
// kernel the comparison says so and compares what crash gets right:
//   - struct pid: Debian's 6.1.172+ backports the flexible numbers[] and
//     crash 8.0.2 then finds 2 tasks of 45 (fixed in 8.0.4); it is run on
//     a copy of the vmlinux whose DWARF gives struct pid its old size
//     (crashoracle.PidSizeFix);
//   - ps RSS: crash 8.0.2 adds MM_FILEPAGES and MM_ANONPAGES only, so its
//     figure is ours less the shmem pages the kernel's get_mm_rss counts;
//   - ps %MEM: crash divides by the wrong page count (skipped);
//   - sym: crash adds the source file and line after the name (ours too);
//   - vtop: crash adds the page-table entries and the page after the
//     translation, which is compared.
func TestOracleCrash(t *testing.T) {
	d := testdump.Require(t)
	o := crashoracle.Require(t, "armhf")
	s, _ := openReference(t)
	fixed := crashoracle.FixedVmlinux(t, d.Vmlinux)
	initTask, _ := s.Kernel.Syms.Addr("init_task")
	p, err := s.Kernel.PanicTask()
	if err != nil {
		t.Fatal(err)
	}
	psp := fmt.Sprintf("ps -p %d", p.Task.PID)
	cmds := []string{
		"sys", "ps", "ps -c 1", psp, "net", "p jiffies", "p linux_banner", "p init_task.comm",
		"sym schedule", "sym ret_fast_syscall", "rd linux_banner 8", "rd -8 linux_banner 20", "rd -64 linux_banner 4",
		"eval 0x100 * 4", "eval -b 0x12345", "ascii 4142434400", "task -R comm,pid 1",
		fmt.Sprintf("vtop %x", initTask), "ptov 60000000", "btop 60001000", "ptob 60001", "sys -t",
		"runq", "mach", "files", "mod", "log -T", "log -t", "kmem -i", "dis -l schedule 4", "bt -l",
		"mount", `search -c "sysrq triggered crash"`, "ps -G", "bt -t", "swap",
	}
	cmdsB := oracleCmdsB(t, s)
	cmds = append(cmds, cmdsB...)
	theirs, preamble, err := o.Run(context.Background(), fixed, d.Vmcore, cmds)
	if err != nil {
		t.Fatalf("%v\n%s", err, preamble)
	}
	crash := map[string]string{}
	for i, c := range cmds {
		crash[c] = theirs[i]
	}
	ours := func(cmd string) string { return run(t, s, cmd) }
	compareCmdsB(t, s, crash, cmdsB)
	same := func(cmd string) {
		if got, want := ours(cmd), crash[cmd]; got != want {
			t.Errorf("%s:\nours:\n%s\ncrash 8.0.2:\n%s", cmd, got, want)
		}
	}
	for _, c := range []string{"ps -c 1", psp, "net", "rd linux_banner 8", "rd -8 linux_banner 20", "rd -64 linux_banner 4",
		"eval 0x100 * 4", "eval -b 0x12345", "ascii 4142434400", "task -R comm,pid 1", "ptov 60000000",
		"btop 60001000", "ptob 60001", "sys -t", "runq", "mach", "files", "mod", "mount", `search -c "sysrq triggered crash"`, "swap"} {
		same(c)
	}
	// log: crash prints each byte outside ASCII as '.', we print UTF-8
	// text as it is (as dmesg does): compare with ours spelled crash's way.
	for _, c := range []string{"log -T", "log -t"} {
		if got, want := asciiDots(ours(c)), crash[c]; got != want {
			t.Errorf("%s: ours and crash's differ:\n%s", c, firstDiff(got, want))
		}
	}
	// p: the history numbers differ with the order of commands; the
	// values must not.
	for _, c := range []string{"p jiffies", "p linux_banner", "p init_task.comm"} {
		if got, want := valueOf(ours(c)), valueOf(crash[c]); got != want {
			t.Errorf("%s: ours %q, crash %q", c, got, want)
		}
	}
	for _, c := range []string{"sym schedule", "sym ret_fast_syscall"} {
		if got := strings.TrimSuffix(ours(c), "\n"); !strings.HasPrefix(crash[c], got+" ") && crash[c] != got+"\n" {
			t.Errorf("%s: ours %q, crash %q", c, got, crash[c])
		}
	}
	vt := fmt.Sprintf("vtop %x", initTask)
	if got, want := ours(vt), crash[vt]; !strings.HasPrefix(want, got) {
		t.Errorf("%s: ours %q is not the start of crash's %q", vt, got, want)
	}
	for _, field := range []string{"RELEASE", "VERSION", "PANIC", "TASKS", "MEMORY", "UPTIME", "LOAD AVERAGE", "DATE", "CPUS"} {
		if got, want := sysField(ours("sys"), field), sysField(crash["sys"], field); got != want || got == "" {
			t.Errorf("sys %s: ours %q, crash %q", field, got, want)
		}
	}
	if !strings.Contains(crash["sys"], "[TAINTED]") || !strings.Contains(ours("sys"), "[TAINTED]") {
		t.Errorf("sys KERNEL: [TAINTED] in crash's %v, in ours %v", strings.Contains(crash["sys"], "[TAINTED]"), strings.Contains(ours("sys"), "[TAINTED]"))
	}
	comparePS(t, s, crash["ps"])
	// bt -t: the same stack words; names may differ where symbols alias
	// one address (crash: __idmap_text_end, ours: ret_fast_syscall).
	unnamed := regexp.MustCompile(`(?m)^  \[([0-9a-f]+)\] \S+ at ([0-9a-f]+)$`)
	if got, want := unnamed.ReplaceAllString(ours("bt -t"), "[$1] $2"), unnamed.ReplaceAllString(crash["bt -t"], "[$1] $2"); got != want {
		t.Errorf("bt -t: %s", firstDiff(got, want))
	}
	if got, want := pidColumn(ours("ps -G")), pidColumn(crash["ps -G"]); got != want {
		t.Errorf("ps -G: ours PIDs %s, crash %s", got, want)
	}
	// kmem -i: crash's SLAB sums its walk of the slab caches, the kernel's
	// own counters (ours) also count per-CPU slabs; SHARED is crash's
	// count of pages with _refcount > 1, compared within 1%.
	for _, row := range []string{"TOTAL MEM", "FREE", "USED", "BUFFERS", "CACHED", "TOTAL SWAP", "COMMIT LIMIT", "COMMITTED"} {
		if got, want := kmemRow(ours("kmem -i"), row), kmemRow(crash["kmem -i"], row); got != want || got == "" {
			t.Errorf("kmem -i %s: ours %q, crash %q", row, got, want)
		}
	}
	ourShared, _ := strconv.Atoi(kmemRow(ours("kmem -i"), "SHARED"))
	theirShared, _ := strconv.Atoi(kmemRow(crash["kmem -i"], "SHARED"))
	if d := ourShared - theirShared; d*100 > theirShared || -d*100 > theirShared {
		t.Errorf("kmem -i SHARED: ours %d, crash %d", ourShared, theirShared)
	}
	// dis -l: the same instructions and source lines; gdb adds a comment
	// ("; 0x208") after some immediates.
	ourDis, theirDis := strings.Split(ours("dis -l schedule 4"), "\n"), strings.Split(crash["dis -l schedule 4"], "\n")
	if len(ourDis) != len(theirDis) {
		t.Errorf("dis -l schedule 4: ours\n%s\ncrash\n%s", strings.Join(ourDis, "\n"), strings.Join(theirDis, "\n"))
	} else {
		for i := range ourDis {
			if before, _, _ := strings.Cut(theirDis[i], "\t; "); ourDis[i] != before {
				t.Errorf("dis -l schedule 4 line %d: ours %q, crash %q", i, ourDis[i], theirDis[i])
			}
		}
	}
	// bt -l: crash names a caller's line at its return address (the
	// line after the call, panic.c's inlined panic_other_cpus_shutdown
	// for panic's call of __crash_kexec), ours at the call; and crash's
	// ARM bt names the frame after panic's noreturn call wrongly. What
	// must agree is the line table: the line crash gives for each address
	// is the one ours gives for the same address.
	for _, m := range regexp.MustCompile(`\[<([0-9a-f]+)>\] \((\w+)\) from .*\n    (/\S+: \d+)`).FindAllStringSubmatch(crash["bt -l"], -1) {
		pc, _ := strconv.ParseUint(m[1], 16, 64)
		if l, err := s.Lines.At(pc); err != nil || l.String() != m[3] {
			t.Errorf("line of %#x (%s): ours %v (%v), crash %s", pc, m[2], l, err, m[3])
		}
	}
}

// asciiDots spells bytes outside printable ASCII as crash's log does.
func asciiDots(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 0x80 {
			b[i] = '.'
		}
	}
	return string(b)
}

// firstDiff shows where two outputs part.
func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) && i < len(bl); i++ {
		if al[i] != bl[i] {
			return fmt.Sprintf("line %d: ours %q, crash %q", i+1, al[i], bl[i])
		}
	}
	return fmt.Sprintf("ours %d lines, crash %d", len(al), len(bl))
}

// kmemRow is the PAGES column of one kmem -i row.
func kmemRow(out, name string) string {
	m := regexp.MustCompile(`(?m)^ *` + name + ` +(\d+) `).FindStringSubmatch(out)
	if m == nil {
		return ""
	}
	return m[1]
}

// pidColumn is ps's PID column, joined.
func pidColumn(out string) string {
	var pids []string
	for _, l := range strings.Split(out, "\n")[1:] {
		if f := strings.Fields(strings.TrimPrefix(l, ">")); len(f) > 0 {
			pids = append(pids, f[0])
		}
	}
	return strings.Join(pids, " ")
}

// valueOf is what follows "$N = " in a print answer.
func valueOf(out string) string {
	if i := strings.Index(out, "$"); i >= 0 {
		if j := strings.Index(out[i:], " = "); j >= 0 {
			return out[i+j+3:]
		}
	}
	return out
}

// sysField is one "NAME: value" line of sys.
func sysField(out, name string) string {
	for _, l := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(l, ": "); ok && strings.TrimSpace(k) == name {
			return v
		}
	}
	return ""
}

// comparePS compares every row of crash's ps with ours: PID, PPID, CPU,
// TASK, ST, VSZ exactly; RSS as crash counts it (ours less shmem).
func comparePS(t *testing.T, s *Session, theirs string) {
	s.JSON = true
	defer func() { s.JSON = false }()
	var rows []PSEntry
	if err := json.Unmarshal([]byte(run(t, s, "ps")), &rows); err != nil {
		t.Fatal(err)
	}
	byPID := map[string]PSEntry{}
	for _, r := range rows {
		byPID[fmt.Sprint(r.PID)] = r
	}
	n := 0
	for _, l := range strings.Split(theirs, "\n")[1:] {
		f := strings.Fields(strings.TrimPrefix(l, ">"))
		if len(f) < 9 {
			continue
		}
		n++
		r, ok := byPID[f[0]]
		if !ok {
			t.Errorf("crash's ps has PID %s, ours not", f[0])
			continue
		}
		got := []string{fmt.Sprint(r.PPID), fmt.Sprint(r.CPU), fmt.Sprintf("%x", r.Task), r.State, fmt.Sprint(r.VSZKB), fmt.Sprint(r.RSSKB - r.ShmemKB)}
		want := []string{f[1], f[2], f[3], f[4], f[6], f[7]}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("ps PID %s: ours PPID CPU TASK ST VSZ RSS-shmem = %v, crash %v", f[0], got, want)
		}
	}
	if n != len(rows) {
		t.Errorf("crash's ps has %d tasks, ours %d", n, len(rows))
	}
}
