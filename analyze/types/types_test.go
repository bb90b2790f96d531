package types

import (
	"bytes"
	"debug/dwarf"
	"debug/elf"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kdumpkit/kdumpkit/internal/testdump"
)

func fixture(t testing.TB) *Types {
	f, err := elf.Open("testdata/types.so")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	ty, err := FromELF(f)
	if err != nil {
		t.Fatal(err)
	}
	return ty
}

func TestOffsetsAndSizes(t *testing.T) {
	ty := fixture(t)
	cases := []struct {
		typ, path string
		want      int64
	}{
		{"struct task", "thread_info.cpu_context.sp", 20},
		{"task", "tasks.prev", 56}, // bare tag as crash allows
		{"struct task", "pid", 64}, // inside an anonymous union
		{"struct task", "comm[3]", 75},
		{"struct list_head", "prev", 8},
	}
	for _, c := range cases {
		got, err := ty.Offset(c.typ, c.path)
		if err != nil || got != c.want {
			t.Errorf("Offset(%s, %s) = %d, %v; want %d", c.typ, c.path, got, err, c.want)
		}
	}
	if _, err := ty.Offset("struct task", "nosuch"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing member: err = %v", err)
	}
	if _, err := ty.Named("struct nosuch"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing struct: err = %v", err)
	}
	if n, err := ty.Size("u32"); err != nil || n != 4 {
		t.Errorf("Size(u32) = %d, %v", n, err)
	}
}

func TestLayoutAndWhatis(t *testing.T) {
	ty := fixture(t)
	st, err := ty.Named("struct task")
	if err != nil {
		t.Fatal(err)
	}
	out := Layout(st, false)
	for _, want := range []string{
		"struct task {\n",
		"    struct thread_info thread_info;\n",
		"    volatile long __state;\n",
		"    struct list_head tasks;\n",
		"    union {\n        int pid;\n        unsigned char raw[4];\n    };\n",
		"        unsigned int a : 3;\n",
		"    char comm[16];\n",
		"    int (*fn)(struct task *, const char *);\n",
		"\nSIZE: ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("layout lacks %q:\n%s", want, out)
		}
	}
	fn, err := ty.Function("do_it")
	if err != nil {
		t.Fatal(err)
	}
	if got := Decl(fn, "do_it"); got != "int do_it(struct task *, const char *)" {
		t.Errorf("whatis do_it = %q", got)
	}
	v, err := ty.Variable("panic_cpu")
	if err != nil || Decl(v, "panic_cpu") != "int panic_cpu" {
		t.Errorf("whatis panic_cpu = %v, %v", v, err)
	}
}

func TestFormatValue(t *testing.T) {
	ty := fixture(t)
	st, err := ty.Named("struct task")
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, st.Size())
	binary.LittleEndian.PutUint64(data[48:], 0xdeadbeef) // tasks.next
	copy(data[72:], "init")
	bits, _ := MemberOf(st, "bits")
	data[bits.Offset] = 5 | 17<<3
	out := FormatValue(st, data, binary.LittleEndian)
	for _, want := range []string{"next = 0xdeadbeef,", `comm = "init\000\000\000\000\000\000\000\000\000\000\000",`, "a = 5,", "b = 17\n", "st = RUNNING,"} {
		if !strings.Contains(out, want) {
			t.Errorf("value lacks %q:\n%s", want, out)
		}
	}
	if got := FormatValue(st, data[:10], binary.LittleEndian); !strings.Contains(got, "unavailable") {
		t.Errorf("short data: %q", got)
	}
}

func TestNoDWARF(t *testing.T) {
	f, err := elf.Open("/proc/self/exe")
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	// A Go test binary has DWARF; a stripped copy would not. Fake the
	// stripped case with an ELF that has no sections at all.
	var empty elf.File
	empty.FileHeader = f.FileHeader
	if _, err := FromELF(&empty); !errors.Is(err, ErrNoDWARF) {
		t.Errorf("no .debug_info: err = %v, want ErrNoDWARF", err)
	}
}

// referenceVmlinux is the vmlinux of the test dump (package testdump).
func referenceVmlinux(t testing.TB) string { return testdump.Require(t).Vmlinux }

func TestReferenceKernelTypes(t *testing.T) {
	f, err := elf.Open(referenceVmlinux(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ty, err := FromELF(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range [][2]string{
		{"struct task_struct", "tasks"}, {"struct task_struct", "comm"}, {"struct task_struct", "thread_info.cpu_context.pc"},
		{"struct task_struct", "stack"}, {"struct rq", "curr"}, {"struct mm_struct", "total_vm"},
	} {
		if _, err := ty.Offset(c[0], c[1]); err != nil {
			t.Errorf("%s.%s: %v", c[0], c[1], err)
		}
	}
	// The DIE-level resolver must agree with debug/dwarf's type graph on
	// every member the kernel helpers read.
	for _, c := range [][2]string{
		{"struct task_struct", "tasks"}, {"struct task_struct", "comm"}, {"struct task_struct", "thread_info.cpu_context.pc"},
		{"struct task_struct", "__state"}, {"struct task_struct", "pid"}, {"struct task_struct", "real_parent"},
		{"struct task_struct", "flags"}, {"struct task_struct", "thread_info.cpu"}, {"struct task_struct", "rss_stat.count[1]"},
		{"struct mm_struct", "rss_stat.count[3].counter"}, {"struct mm_struct", "total_vm"}, {"struct signal_struct", "thread_head"},
		{"struct rq", "curr"}, {"struct pglist_data", "node_present_pages"}, {"struct uts_namespace", "name"},
	} {
		st, err := ty.Named(c[0])
		if err != nil {
			t.Fatal(err)
		}
		m, err1 := MemberOf(st, c[1])
		f, err2 := ty.FieldOf(c[0], c[1])
		if err1 != nil || err2 != nil {
			t.Errorf("%s.%s: MemberOf %v, FieldOf %v", c[0], c[1], err1, err2)
			continue
		}
		if m.Offset != f.Offset || Strip(m.Type).Size() != f.Size {
			t.Errorf("%s.%s: MemberOf %d/%d (%v), FieldOf %+v (%v)", c[0], c[1], m.Offset, Strip(m.Type).Size(), err1, f, err2)
		}
	}
	if v, err := ty.Variable("init_task"); err != nil || Decl(v, "") != "struct task_struct" {
		t.Errorf("init_task: %v, %v", v, err)
	}
}

// BenchmarkIndex measures the lazy index build over the whole .debug_info
// of the reference vmlinux (the cost of the first type question).
func BenchmarkIndex(b *testing.B) {
	path := referenceVmlinux(b)
	for b.Loop() {
		ty, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		if err := ty.BuildIndex(); err != nil {
			b.Fatal(err)
		}
		ty.Close()
	}
}

func TestIndexCache(t *testing.T) {
	path := filepath.Join(t.TempDir(), "idx")
	ty := fixture(t)
	ty.UseIndexCache(path)
	if _, err := ty.Offset("struct task", "comm"); err != nil {
		t.Fatal(err)
	}
	ty.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("index cache not written: %v", err)
	}
	warm := fixture(t)
	warm.UseIndexCache(path)
	if off, err := warm.Offset("struct task", "comm"); err != nil || off != 72 {
		t.Errorf("from cache: %d, %v", off, err)
	}
	// A damaged cache is rebuilt, not trusted.
	if err := os.WriteFile(path, []byte(cacheMagic+"\nzz\tbad\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := fixture(t)
	bad.UseIndexCache(path)
	if off, err := bad.Offset("struct task", "comm"); err != nil || off != 72 {
		t.Errorf("after damage: %d, %v", off, err)
	}
}

// BenchmarkOpenWarm is the cost of a type question when the index comes
// from its cache file and the vmlinux is mapped.
func BenchmarkOpenWarm(b *testing.B) {
	path := referenceVmlinux(b)
	cache := filepath.Join(b.TempDir(), "idx")
	for b.Loop() {
		ty, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		ty.UseIndexCache(cache)
		if _, err := ty.Offset("struct task_struct", "comm"); err != nil {
			b.Fatal(err)
		}
		ty.Close()
	}
}

// TestFieldOfMatchesMemberOf checks the DIE-level resolver against the
// debug/dwarf type graph on every kind of member the fixture has.
func TestFieldOfMatchesMemberOf(t *testing.T) {
	ty := fixture(t)
	st, err := ty.Named("struct task")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"thread_info.cpu_context.sp", "tasks.prev", "pid", "raw[2]", "comm[3]", "bits.a", "bits.b", "st", "fn", "parent", "thread_info"} {
		m, err1 := MemberOf(st, path)
		f, err2 := ty.FieldOf("struct task", path)
		if err1 != nil || err2 != nil {
			t.Errorf("%s: %v / %v", path, err1, err2)
			continue
		}
		if f.Offset != m.Offset || f.Size != Strip(m.Type).Size() || f.BitSize != m.BitSize || f.BitOffset != m.BitOffset {
			t.Errorf("%s: FieldOf %+v, MemberOf off %d size %d bits %d@%d", path, f, m.Offset, Strip(m.Type).Size(), m.BitSize, m.BitOffset)
		}
	}
}

// TestFastIndexMatchesSlow compares the raw scanner's index with the one
// built through debug/dwarf's reader, on the fixture and the reference.
func TestFastIndexMatchesSlow(t *testing.T) {
	check := func(t *testing.T, ty *Types) {
		if err := ty.BuildIndex(); err != nil {
			t.Fatal(err)
		}
		fast := ty.idx.scanned
		ty.idx.scanned = newNames()
		if err := ty.indexSlow(); err != nil {
			t.Fatal(err)
		}
		slow := ty.idx.scanned
		for k := range fast {
			if len(fast[k]) != len(slow[k]) {
				t.Errorf("%v: fast %d names, slow %d", Kind(k), len(fast[k]), len(slow[k]))
			}
			for name, e := range slow[k] {
				if fast[k][name] != e {
					t.Errorf("%v %s: fast %+v, slow %+v", Kind(k), name, fast[k][name], e)
					break
				}
			}
		}
	}
	t.Run("fixture", func(t *testing.T) { check(t, fixture(t)) })
	t.Run("reference", func(t *testing.T) {
		ty, err := Open(referenceVmlinux(t))
		if err != nil {
			t.Fatal(err)
		}
		defer ty.Close()
		check(t, ty)
	})
}

func FuzzScanUnit(f *testing.F) {
	ef, err := elf.Open("testdata/types.so")
	if err != nil {
		f.Fatal(err)
	}
	defer ef.Close()
	info, _ := ef.Section(".debug_info").Data()
	abbrev, _ := ef.Section(".debug_abbrev").Data()
	str, _ := ef.Section(".debug_str").Data()
	f.Add(info, abbrev, uint32(0x2d))
	f.Fuzz(func(t *testing.T, info, abbrev []byte, off uint32) {
		sc := newScanner(&sections{infoR: bytes.NewReader(info), infoLen: len(info), abbrev: abbrev, str: str, bo: binary.LittleEndian})
		ty := &Types{scan: sc}
		_, _ = ty.Lookup(KindStruct, "task")
		_ = ty.BuildIndex()
		// The member resolver reads arbitrary offsets (type references
		// from the data): it must fail cleanly on any of them.
		if d, err := sc.readDIE(dwarf.Offset(off)); err == nil {
			_, _ = sc.childrenOf(d)
			_, _, _ = ty.findMember(dwarf.Offset(off), "x", 0)
			_, _ = ty.sizeOf(dwarf.Offset(off))
		}
	})
}

// TestIndexPrefixMatchesWhole checks that the index grown lazily — from a
// cache file holding the first units, extended by questions while
// Prefetch runs beside them — answers every name as the whole index does.
func TestIndexPrefixMatchesWhole(t *testing.T) {
	path := referenceVmlinux(t)
	whole, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer whole.Close()
	if err := whole.BuildIndex(); err != nil {
		t.Fatal(err)
	}
	cache := filepath.Join(t.TempDir(), "idx")
	first, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	first.UseIndexCache(cache)
	first.Prefetch(64)
	first.Close()
	if _, err := os.Stat(cache); err != nil {
		t.Fatalf("Prefetch saved no cache: %v", err)
	}
	lazy, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer lazy.Close()
	lazy.UseIndexCache(cache)
	if lazy.Preload(); lazy.idx.cachedEnd == 0 || lazy.idx.complete {
		t.Fatalf("cache covers %#x of %#x", lazy.idx.cachedEnd, lazy.scan.infoLen)
	}
	go lazy.Prefetch(16)
	n := 0
	for k, m := range whole.idx.scanned {
		for name, e := range m {
			if n++; n%211 != 0 {
				continue
			}
			if off, err := lazy.Lookup(Kind(k), name); err != nil || off != e.off {
				t.Errorf("%v %s: lazy %#x, %v; whole %#x", Kind(k), name, off, err, e.off)
			}
		}
	}
	if _, err := lazy.Lookup(KindStruct, "no_such_struct_anywhere"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a missing name: %v", err)
	}
	if !lazy.idx.complete {
		t.Error("a missing name did not complete the index")
	}
}
