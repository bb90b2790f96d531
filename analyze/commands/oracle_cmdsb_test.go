package commands

import (
	"bytes"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// oracleCmdsB are the kmem, irq, timer, sig, ipcs and dev commands TestOracleCrash
// asks crash 8.0.2 too: addresses come from our session (init's
// task_struct, a free kmalloc-64 object, the first vmalloc area).
func oracleCmdsB(t *testing.T, s *Session) []string {
	init, err := s.Kernel.TaskByPID(1)
	if err != nil {
		t.Fatal(err)
	}
	cmds := []string{"kmem -s", "kmem -S task_struct", "kmem -S kmem_cache", "kmem -v", "kmem -g", "kmem -g 4000", "kmem -f",
		"kmem -s list", fmt.Sprintf("kmem %x", init.Addr), fmt.Sprintf("kmem -p %x", init.Addr), "kmem -P 60000000",
		"irq", "irq -a", "irq -s", "irq -b", "timer", "sig 1", "sig -g 1", "sig -l", "sig -s 800A000000000201", "ipcs", "dev", "dev -p", "dev -i"}
	if m := regexp.MustCompile(`(?m)^   ([0-9a-f]+)  $`).FindStringSubmatch(run(t, s, "kmem -S kmalloc-64")); m != nil {
		cmds = append(cmds, "kmem "+m[1])
	}
	// The second vmalloc area: crash 8.0.2 answers kmem of the first
	// one (the 16 MiB at the vmalloc space's start on this dump) with
	// its page only, not as a vmalloc area.
	if m := regexp.MustCompile(`(?m)^[0-9a-f]+ +[0-9a-f]+ +([0-9a-f]+) - `).FindAllStringSubmatch(run(t, s, "kmem -v"), 2); len(m) == 2 {
		cmds = append(cmds, "kmem "+m[1][1])
	}
	return cmds
}

// compareCmdsB compares those answers. Where crash 8.0.2 is wrong on
// this 6.1 kernel the comparison says so:
//   - kmem -f: crash's MEM_MAP adds node_start_pfn's pages to
//     node_mem_map, which already starts there (ours is kmem -p's first
//     page); the rest is compared;
//   - kmem -S: crash 8.0.2 misreads 6.1's kmem_cache_cpu.partial (a
//     struct slab chain) for caches with per-CPU partial slabs
//     (kmalloc-64's object list goes astray), so the caches compared
//     word for word are task_struct and kmem_cache, which have none;
//   - irq: crash's -u lists unused IRQs too (not asked); the rest equal;
//   - timer: timers of equal expiry may come in either order;
//   - dev -p: this kernel has no PCI; crash's error line starts ours.
func compareCmdsB(t *testing.T, s *Session, crash map[string]string, cmds []string) {
	for _, c := range cmds {
		if c == "dev -p" { // no PCI: crash's error line is ours, less our reason
			var out, errw bytes.Buffer
			if err := s.Exec(c, &out, &errw); err == nil || !strings.HasPrefix(errw.String(), strings.TrimSuffix(crash[c], "\n")) {
				t.Errorf("dev -p: ours %q (%v), crash 8.0.2 %q", errw.String(), err, crash[c])
			}
			continue
		}
		ours := run(t, s, c)
		want := crash[c]
		switch c {
		case "kmem -f":
			memMap := regexp.MustCompile(`(?m)^(  0   \S+ +\d+ +\d+  )[0-9a-f]+ `)
			ours, want = memMap.ReplaceAllString(ours, "${1}MEM_MAP "), memMap.ReplaceAllString(want, "${1}MEM_MAP ")
		case "timer":
			ours, want = sortedLines(ours), sortedLines(want)
		}
		if ours != want {
			t.Errorf("%s: ours and crash 8.0.2's differ: %s", c, firstDiff(ours, want))
		}
	}
}

func sortedLines(s string) string {
	l := strings.Split(s, "\n")
	sort.Strings(l)
	return strings.Join(l, "\n")
}
