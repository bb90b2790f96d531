package commands

import (
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/kdumpkit/kdumpkit/analyze/kernel"
	"github.com/kdumpkit/kdumpkit/internal/testdump"
)

// TestKmemSlabs: kmem -s's caches against facts counted apart from the
// slab walk: every cache's TOTAL is its SLABS times the objects a slab
// holds (the kernel's own node counters), the slab pages of all caches
// are the kernel's NR_SLAB_*_B pages (kmem -i's SLAB), and task_struct
// has one allocated object per task but init_task (static).
func TestKmemSlabs(t *testing.T) {
	s, _ := openReference(t)
	caches, err := s.Kernel.SlabCaches()
	if err != nil || len(caches) < 50 {
		t.Fatalf("%d caches, %v", len(caches), err)
	}
	var slabs uint64
	for _, c := range caches {
		if c.Total != c.Slabs*c.PerSlab || c.Allocated() > c.Total {
			t.Errorf("%s: %d slabs of %d objects, total %d, allocated %d", c.Name, c.Slabs, c.PerSlab, c.Total, c.Allocated())
		}
		slabs += c.Slabs
	}
	// Each slab's head page has PG_slab: mem_map counts them apart from
	// the nodes' counters.
	if heads := regexp.MustCompile(`(?m) [0-9a-f]+ (\S+,)?slab(,\S+)?$`).FindAllString(run(t, s, "kmem -p"), -1); uint64(len(heads)) != slabs {
		t.Errorf("the caches count %d slabs, mem_map has %d PG_slab pages", slabs, len(heads))
	}
	tasks, _ := s.Kernel.Tasks()
	out := run(t, s, "kmem -s task_struct")
	m := regexp.MustCompile(`(?m)^([0-9a-f]+) +(\d+) +(\d+) +(\d+) +(\d+) +(\d+)k  task_struct$`).FindStringSubmatch(out)
	if m == nil || m[3] != strconv.Itoa(len(tasks)-1) {
		t.Errorf("kmem -s task_struct: want %d allocated (tasks less init_task):\n%s", len(tasks)-1, out)
	}
	// -S: every listed slab's objects are its TOTAL, its free ones FREE.
	all := run(t, s, "kmem -S kmalloc-64")
	rows := regexp.MustCompile(`(?m)^  ([0-9a-f]+)  ([0-9a-f]+) +\d+ +(\d+) +(\d+) +(\d+)$`).FindAllStringSubmatch(all, -1)
	if len(rows) == 0 {
		t.Fatalf("kmem -S kmalloc-64 lists no slab:\n%.3000s", all)
	}
	objs := regexp.MustCompile(`(?m)^  \[[0-9a-f]+\]$|^   [0-9a-f]+  `).FindAllString(all, -1)
	want := 0
	for _, r := range rows {
		n, _ := strconv.Atoi(r[3])
		want += n
	}
	if len(objs) != want {
		t.Errorf("kmem -S kmalloc-64: %d objects listed, the slab rows say %d", len(objs), want)
	}
	// An address inside init's task_struct is an allocated object of
	// task_struct, at the task's address.
	init, _ := s.Kernel.TaskByPID(1)
	got := run(t, s, fmt.Sprintf("kmem %x", init.Addr+100))
	if !strings.Contains(got, "  task_struct\n") || !strings.Contains(got, fmt.Sprintf("  [%x]\n", init.Addr)) || !strings.Contains(got, "    PID: 1\n") {
		t.Errorf("kmem of init's task_struct:\n%s", got)
	}
}

// TestKmemPagesFreeVmalloc: -f's blocks add up to the kernel's free page
// count (kmem -i FREE), -p's rows are the node's pages and agree with
// kmem -p of one address, -g names PG_slab, and -v's areas are those
// whose vm_struct says the same address (read through p).
func TestKmemPagesFreeVmalloc(t *testing.T) {
	s, _ := openReference(t)
	free := run(t, s, "kmem -f")
	if want := fmt.Sprintf("nr_free_pages: %s  (verified)\n", kmemRow(run(t, s, "kmem -i"), "FREE")); !strings.HasSuffix(free, want) {
		t.Errorf("kmem -f does not end with %q:\n%s", want, free)
	}
	var sum int
	for _, m := range regexp.MustCompile(`(?m)^ *\d+ +\d+k +[0-9a-f]+ +\d+ +(\d+)$`).FindAllStringSubmatch(free, -1) {
		n, _ := strconv.Atoi(m[1])
		sum += n
	}
	if fmt.Sprintf("nr_free_pages: %d  (verified)\n", sum) != free[strings.LastIndex(free, "nr_free"):] {
		t.Errorf("kmem -f's PAGES column adds up to %d", sum)
	}
	pages := strings.Split(strings.TrimSuffix(run(t, s, "kmem -p"), "\n"), "\n")
	spanned := strings.TrimSpace(valueOf(run(t, s, "p contig_page_data.node_spanned_pages")))
	if strconv.Itoa(len(pages)-1) != spanned {
		t.Errorf("kmem -p: %d pages, node_spanned_pages %s", len(pages)-1, spanned)
	}
	phys := strings.Fields(pages[100])[1]
	if one := run(t, s, "kmem -p "+phys); one != pages[0]+"\n"+pages[100]+"\n" {
		t.Errorf("kmem -p %s = %q, row 100 of kmem -p %q", phys, one, pages[100])
	}
	if g := run(t, s, "kmem -g 200"); !regexp.MustCompile(`(?m)^  PG_slab +9  000200$`).MatchString(g) {
		t.Errorf("kmem -g 200:\n%s", g)
	}
	areas := regexp.MustCompile(`(?m)^([0-9a-f]+) +([0-9a-f]+) +([0-9a-f]+) - ([0-9a-f]+) +(\d+)$`).FindAllStringSubmatch(run(t, s, "kmem -v"), -1)
	if len(areas) < 10 {
		t.Fatalf("kmem -v: %d areas", len(areas))
	}
	for _, a := range areas[:10] {
		if a[2] == "0" {
			continue
		}
		if addr := valueOf(run(t, s, "p ((struct vm_struct *)0x"+a[2]+")->addr")); !strings.Contains(addr, "0x"+a[3]) {
			t.Errorf("vmap_area %s: vm->addr %s, range from %s", a[1], addr, a[3])
		}
	}
}

// TestKmemArm64: the slab, free-list and page walks on the arm64 dump
// (6.12, SPARSEMEM_VMEMMAP, 64-bit).
func TestKmemArm64(t *testing.T) {
	d := testdump.RequireBoard(t, "arm64")
	s := openDump(t, d.Vmlinux, d.Vmcore)
	caches, err := s.Kernel.SlabCaches()
	if err != nil || len(caches) < 30 {
		t.Fatalf("%d caches, %v", len(caches), err)
	}
	for _, c := range caches {
		if c.Total != c.Slabs*c.PerSlab || c.Allocated() > c.Total {
			t.Errorf("%s: %d slabs of %d objects, total %d, allocated %d", c.Name, c.Slabs, c.PerSlab, c.Total, c.Allocated())
		}
	}
	// The lists need not add up to the counter on an SMP dump: the other
	// CPU is stopped wherever it was, possibly inside __free_one_page
	// between accounting a block and linking it (one such run had the
	// counter 4 pages, an order-2 block, ahead). kmem -f then says "found"
	// as crash does; the lists' sum and the counter must still be what
	// kmem prints, and close.
	free := run(t, s, "kmem -f")
	counter, _ := strconv.Atoi(kmemRow(run(t, s, "kmem -i"), "FREE"))
	var sum int
	for _, m := range regexp.MustCompile(`(?m)^ *\d+ +\d+k +[0-9a-f]+ +\d+ +(\d+)$`).FindAllStringSubmatch(free, -1) {
		n, _ := strconv.Atoi(m[1])
		sum += n
	}
	want := fmt.Sprintf("nr_free_pages: %d  (verified)\n", counter)
	if sum != counter {
		want = fmt.Sprintf("nr_free_pages: %d  (found %d)\n", counter, sum)
	}
	if !strings.HasSuffix(free, want) || counter == 0 || sum < counter-1024 || sum > counter+1024 {
		t.Errorf("arm64 kmem -f: counter %d, lists %d; want it to end with %q:\n%s", counter, sum, want, free)
	}
	init, _ := s.Kernel.TaskByPID(1)
	pa, _ := s.Kernel.VirtToPhys(init.Addr)
	if got := run(t, s, fmt.Sprintf("kmem -p %x", init.Addr)); !strings.Contains(got, fmt.Sprintf(" %x ", pa)) {
		t.Errorf("arm64 kmem -p of init's task (phys %x):\n%s", pa, got)
	}
	if v := run(t, s, "kmem -v"); strings.Count(v, "\n") < 10 {
		t.Errorf("arm64 kmem -v:\n%s", v)
	}
}

// openDump builds a Session on another board's cached dump.
func openDump(t *testing.T, vmlinux, vmcore string) *Session {
	img, err := kernel.LoadImage(vmlinux, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { img.Close() })
	core := openVmcore(t, vmcore)
	s, err := NewSession(img, core, core.Printk(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
