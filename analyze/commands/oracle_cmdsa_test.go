package commands

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/kdumpkit/kdumpkit/internal/crashoracle"
	"github.com/kdumpkit/kdumpkit/internal/testdump"
)

// TestOracleCrashStacksTreesPS compares bt -F/-FF/-r, ps -t/-S, sym -q,
// mod -S and tree with crash 8.0.2 on the test dump (as TestOracleCrash,
// whose notes on crash's struct pid apply; it skips the same way where
// crash is not installed). Where crash 8.0.2 cannot answer on this ARM
// 6.1 kernel the test checks that it still cannot, so the notes stay
// true:
//   - bt -e: crash's ARM port has no exception-frame search ("N/A");
//   - ps -l/-m: the kernel has no sched_info.last_arrival (no
//     SCHED_INFO), crash says "last-run timestamps do not exist" and ours
//     read se.exec_start;
//   - ps -t: crash reads a 32-bit kernel's u64 utime/stime as a timeval
//     it never fills and prints 0; RUN TIME and START TIME are compared;
//   - tree -t radix: crash 8.0.2 looks for the radix_tree_node of
//     kernels before 4.20 and fails; ours reads the XArray that a radix
//     tree is now (compared with crash's -t xarray);
//   - tree -t maple: crash 8.0.2 has none (8.0.3 added it).
//
// bt -F and bt -r are compared word by word: each word crash shows, read
// back as a value (hex, or symbol+offset), is the word ours shows at that
// address; a word inside a symbol ours names by it (crash may pick
// another of the names one address has). crash also names words by the nearest symbol
// below them when no symbol covers them (kallsyms_token_index+293412 for
// a string in .rodata, _end+N for any lowmem address, slab objects
// included, so its -F never reaches its slab lookup here): ours prints
// those as hex, or by slab cache, and the values agree.
func TestOracleCrashStacksTreesPS(t *testing.T) {
	d := testdump.Require(t)
	o := crashoracle.Require(t, "armhf")
	s, _ := openReference(t)
	fixed := crashoracle.FixedVmlinux(t, d.Vmlinux)
	p, err := s.Kernel.PanicTask()
	if err != nil {
		t.Fatal(err)
	}
	pst := fmt.Sprintf("ps -t %d", p.Task.PID)
	exact := []string{"ps -S", "sym -q sysrq_handle", "mod -S",
		"tree -t rbtree -o vmap_area.rb_node vmap_area_root",
		"tree -l -p -t rbtree -o vmap_area.rb_node vmap_area_root",
		"tree -t xarray -p -r pid_namespace.idr init_pid_ns"}
	cmds := append([]string{"bt -F", "bt -FF", "bt -r", "bt -e", "ps -t 1", pst, "ps -l", "ps -m",
		"tree -t radix -r pid_namespace.idr init_pid_ns", "tree -t maple -r mm_struct.mm_mt 0"}, exact...)
	theirs, preamble, err := o.Run(context.Background(), fixed, d.Vmcore, cmds)
	if err != nil {
		t.Fatalf("%v\n%s", err, preamble)
	}
	crash := map[string]string{}
	for i, c := range cmds {
		crash[c] = theirs[i]
	}
	for _, c := range exact {
		if got := run(t, s, c); got != crash[c] || got == "" {
			t.Errorf("%s: %s", c, firstDiff(got, crash[c]))
		}
	}
	for _, c := range []string{"ps -t 1", pst} {
		keep := regexp.MustCompile(`(?m)^(PID: .*|    RUN TIME: .*|  START TIME: .*)$`)
		got, want := keep.FindAllString(run(t, s, c), -1), keep.FindAllString(crash[c], -1)
		if strings.Join(got, "\n") != strings.Join(want, "\n") || len(got) != 3 {
			t.Errorf("%s: ours %q, crash %q", c, got, want)
		}
		if !strings.Contains(crash[c], "   USER TIME: 0\n SYSTEM TIME: 0\n") {
			t.Errorf("%s: crash 8.0.2 now reads the CPU times (update the note): %s", c, crash[c])
		}
	}
	for c, says := range map[string]string{
		"bt -e": "arm_eframe_search: N/A", "ps -l": "last-run timestamps do not exist", "ps -m": "last-run timestamps do not exist",
		"tree -t radix -r pid_namespace.idr init_pid_ns": "radix trees do not exist", "tree -t maple -r mm_struct.mm_mt 0": "invalid tree type: maple",
	} {
		if !strings.Contains(crash[c], says) {
			t.Errorf("%s: crash 8.0.2 no longer says %q (update the note): %s", c, says, crash[c])
		}
	}
	if src, err := s.Kernel.LastRunSource(); err != nil || src != "se.exec_start" {
		t.Errorf("last-run source %q, %v: the kernel has SCHED_INFO after all?", src, err)
	}
	if got, want := run(t, s, "tree -t radix -r pid_namespace.idr init_pid_ns"), run(t, s, "tree -t xarray -r pid_namespace.idr init_pid_ns"); got != want {
		t.Errorf("tree -t radix differs from -t xarray")
	}
	for _, c := range []string{"bt -F", "bt -FF", "bt -r"} {
		n := compareStackWords(t, s, c, run(t, s, c), crash[c])
		if n < 20 {
			t.Errorf("%s: only %d words compared", c, n)
		}
	}
}

// compareStackWords checks every stack word crash shows ("ADDR: w w w
// w" lines) against ours at the same address, as TestOracleCrashStacksTreesPS
// says, and returns how many were compared.
func compareStackWords(t *testing.T, s *Session, cmd, ours, theirs string) int {
	t.Helper()
	size := s.Kernel.PtrSize
	line := regexp.MustCompile(fmt.Sprintf(`(?m)^ *([0-9a-f]{%d}): +(.*?) *$`, 2*size))
	words := func(out string) map[uint64]string {
		m := map[uint64]string{}
		for _, l := range line.FindAllStringSubmatch(out, -1) {
			a, _ := strconv.ParseUint(l[1], 16, 64)
			for i, w := range strings.Fields(l[2]) {
				m[a+uint64(size*i)] = w
			}
		}
		return m
	}
	ourWords := words(ours)
	n := 0
	for a, w := range words(theirs) {
		v, ok := crashWordValue(s, w)
		if !ok {
			t.Errorf("%s at %x: crash's %q is no value", cmd, a, w)
			continue
		}
		mem, err := s.Kernel.ReadUint(a, size)
		if err != nil || mem != v {
			t.Errorf("%s at %x: crash's %q is %x, memory %x (%v)", cmd, a, w, v, mem, err)
		}
		got, ok := ourWords[a]
		if !ok {
			continue // a word of a frame crash shows and ours does not (crash's ARM frames differ)
		}
		n++
		switch name := s.symbolAt(v); {
		case name != "" && got != name:
			t.Errorf("%s at %x: ours %q, the symbol %q (crash %q)", cmd, a, got, name, w)
		case name == "" && got != fmt.Sprintf("%0*x", 2*size, v) && !strings.HasPrefix(got, "["):
			t.Errorf("%s at %x: ours %q for %x (crash %q)", cmd, a, got, v, w)
		}
	}
	return n
}

// crashWordValue reads a word crash printed: hex, or symbol[+offset].
func crashWordValue(s *Session, w string) (uint64, bool) {
	if v, err := strconv.ParseUint(w, 16, 64); err == nil && len(w) == 2*s.Kernel.PtrSize {
		return v, true
	}
	name, off, _ := strings.Cut(w, "+")
	a, err := s.Kernel.Syms.Addr(name)
	if err != nil {
		return 0, false
	}
	o := uint64(0)
	if off != "" {
		if o, err = strconv.ParseUint(off, 10, 64); err != nil {
			return 0, false
		}
	}
	return a + o, true
}

// TestOracleCrashArm64BtE compares bt -e, bt -F/-FF (word by word, as
// TestOracleCrashStacksTreesPS does), tree -t xarray, sym -q, dev and dev -i with
// crash 8.0.2's arm64 build (under qemu-aarch64-static) on the arm64
// dump; crash names no slab object there (6.12 has no PG_slab), ours do.
// bt -e: for every task crash lists (it finds only the active tasks of
// this 6.12 kernel, "not found in PID hash"), the same exception frames
// at the same addresses, and for each kernel-mode frame the same
// register lines. crash prints a user-mode frame's PSTATE on a line of
// its own with ORIG_X0 and SYSCALLNO; those are compared by address
// only. Ours are stricter than crash's (EL1h/EL2h only, SPSR's RES0 bits
// clear): on the tasks crash cannot see they leave out stale words
// crash's test would take.
func TestOracleCrashArm64BtE(t *testing.T) {
	d := testdump.RequireBoard(t, "arm64")
	o := crashoracle.Require(t, "arm64")
	s := openDump(t, d.Vmlinux, d.Vmcore)
	more := []string{"bt -F", "bt -FF", "tree -t xarray -p -r pid_namespace.idr init_pid_ns", "sym -q sysrq_handle", "dev", "dev -i"}
	theirs, preamble, err := o.Run(context.Background(), d.Vmlinux, d.Vmcore, append([]string{"foreach bt -e", "bt -e"}, more...))
	if err != nil {
		t.Fatalf("%v\n%s", err, preamble)
	}
	for i, c := range more {
		switch crash := theirs[2+i]; {
		case strings.HasPrefix(c, "bt"):
			if n := compareStackWords(t, s, c, run(t, s, c), crash); n < 20 {
				t.Errorf("%s: only %d words compared", c, n)
			}
		case run(t, s, c) != crash:
			t.Errorf("%s: %s", c, firstDiff(run(t, s, c), crash))
		}
	}
	theirs = theirs[:2]
	header := regexp.MustCompile(`(?m)^PID: .* TASK: ([0-9a-f]+) `)
	frame := regexp.MustCompile(`(?m)^(KERNEL|USER)-MODE EXCEPTION FRAME AT: [0-9a-f]+\n`)
	tasks := 0
	for _, out := range theirs {
		idx := header.FindAllStringSubmatchIndex(out, -1)
		for i, h := range idx {
			end := len(out)
			if i+1 < len(idx) {
				end = idx[i+1][0]
			}
			block, task := out[h[0]:end], out[h[2]:h[3]]
			ours := run(t, s, "bt -e "+task)
			theirFrames, ourFrames := frame.FindAllString(block, -1), frame.FindAllString(ours, -1)
			if strings.Join(theirFrames, "") != strings.Join(ourFrames, "") {
				t.Errorf("task %s: crash's frames %q, ours %q", task, theirFrames, ourFrames)
			}
			for _, k := range regexp.MustCompile(`(?m)^KERNEL-MODE EXCEPTION FRAME AT: [0-9a-f]+\n(?: .*\n)+`).FindAllString(block, -1) {
				if !strings.Contains(ours, k) {
					t.Errorf("task %s: crash's kernel frame\n%s\nis not ours:\n%s", task, k, ours)
				}
			}
			tasks++
		}
	}
	p, err := s.Kernel.PanicTask()
	if err != nil {
		t.Fatal(err)
	}
	if tasks < 2 || !strings.Contains(theirs[1], fmt.Sprintf("TASK: %x ", p.Task.Addr)) {
		t.Errorf("crash listed %d tasks, and bt -e is not the panic task's:\n%s", tasks, theirs[1])
	}
}
