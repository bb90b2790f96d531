package symbols

import (
	"cmp"
	"debug/elf"
	"encoding/binary"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kdumpkit/kdumpkit/internal/testdump"
)

func TestAtAndLookup(t *testing.T) {
	tab := New([]Symbol{
		{Name: "$a", Addr: 0x1000},
		{Name: "$d.12", Addr: 0x1010},
		{Name: "local_label", Addr: 0x1000, Type: elf.STT_NOTYPE},
		{Name: "panic", Addr: 0x1000, Size: 0x40, Type: elf.STT_FUNC, Global: true},
		{Name: "vfs_write", Addr: 0x1040, Size: 0x20, Type: elf.STT_FUNC, Global: true},
		{Name: "jiffies", Addr: 0x9000, Size: 4, Type: elf.STT_OBJECT, Global: true},
		{Name: "file.c", Type: elf.STT_FILE},
	})
	if tab.Len() != 4 {
		t.Fatalf("Len = %d, want 4 (mapping and file symbols dropped)", tab.Len())
	}
	cases := []struct {
		addr uint64
		want string
	}{
		{0x1000, "panic"},
		{0x1010, "panic+0x10"},
		{0x1044, "vfs_write+0x4"},
		{0x1070, "vfs_write+0x30"}, // padding after a function
		{0x9002, "jiffies+0x2"},
		{0xfff, "0xfff"},
		{0x90000, "0x90000"}, // far past the last symbol
	}
	for _, c := range cases {
		if got := tab.Format(c.addr); got != c.want {
			t.Errorf("Format(%#x) = %q, want %q", c.addr, got, c.want)
		}
	}
	if a, err := tab.Addr("vfs_write"); err != nil || a != 0x1040 {
		t.Errorf("Addr(vfs_write) = %#x, %v", a, err)
	}
	if _, err := tab.Addr("$a"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Addr($a) err = %v, want ErrNotFound", err)
	}
}

func TestCheckBuildID(t *testing.T) {
	id := []byte{0x06, 0x4a, 0x37, 0x07, 0xc1, 0x58, 0xfc, 0x00, 0x7c, 0xab, 0x79, 0xf2, 0x7c, 0x00, 0x5a, 0x1d, 0xfa, 0xeb, 0x79, 0x3}
	if err := CheckBuildID(id, "064a3707c158fc007cab79f27c005a1dfaeb7903"); err != nil {
		t.Errorf("matching IDs: %v", err)
	}
	err := CheckBuildID(id, "1111111111111111111111111111111111111111")
	if !errors.Is(err, ErrBuildIDMismatch) {
		t.Fatalf("mismatch err = %v", err)
	}
	for _, want := range []string{"064a3707c158fc007cab79f27c005a1dfaeb7903", "1111111111111111111111111111111111111111"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not show %s", err, want)
		}
	}
	if err := CheckBuildID(id, ""); err != nil {
		t.Errorf("no VMCOREINFO BUILD-ID must be accepted: %v", err)
	}
}

func note(bo binary.ByteOrder, name string, typ uint32, desc []byte) []byte {
	b := make([]byte, 12)
	bo.PutUint32(b, uint32(len(name)+1))
	bo.PutUint32(b[4:], uint32(len(desc)))
	bo.PutUint32(b[8:], typ)
	n := append([]byte(name), 0)
	for len(n)%4 != 0 {
		n = append(n, 0)
	}
	d := append([]byte(nil), desc...)
	for len(d)%4 != 0 {
		d = append(d, 0)
	}
	return append(append(b, n...), d...)
}

func TestBuildIDFromNotes(t *testing.T) {
	bo := binary.BigEndian // byte order comes from the file, not the host
	data := append(note(bo, "Linux", 6, []byte{1, 2, 3}), note(bo, "GNU", ntGNUBuildID, []byte{0xde, 0xad, 0xbe, 0xef})...)
	id, err := buildIDFromNotes(data, bo)
	if err != nil || string(id) != "\xde\xad\xbe\xef" {
		t.Fatalf("got %x, %v", id, err)
	}
	if _, err := buildIDFromNotes(data[:len(data)-2], bo); err == nil {
		t.Error("truncated note: no error")
	}
}

func FuzzBuildIDFromNotes(f *testing.F) {
	f.Add(note(binary.LittleEndian, "GNU", ntGNUBuildID, make([]byte, 20)))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 3, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = buildIDFromNotes(data, binary.LittleEndian)
	})
}

// referenceDir is the test dump's directory (package testdump).
func referenceDir(t testing.TB) string { return testdump.Require(t).Dir }

func TestReferenceVmlinux(t *testing.T) {
	f, err := elf.Open(filepath.Join(referenceDir(t), "vmlinux"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tab, err := FromELF(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"panic", "sysrq_handle_crash", "vfs_write", "ret_fast_syscall", "init_task"} {
		s, err := tab.Lookup(name)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if got := tab.Format(s.Addr + 4); got != name+"+0x4" {
			t.Errorf("Format(%s+4) = %q", name, got)
		}
	}
	if id, err := BuildID(f); err != nil || len(id) != 20 {
		t.Errorf("BuildID = %x, %v; want a 20-byte sha1 ID", id, err)
	}
}

func BenchmarkFromELF(b *testing.B) {
	f, err := elf.Open(filepath.Join(referenceDir(b), "vmlinux"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	for b.Loop() {
		if _, err := FromELF(f); err != nil {
			b.Fatal(err)
		}
	}
}

// TestFromELFMatchesDebugELF checks the raw .symtab decoder against
// debug/elf's Symbols on the test dump's vmlinux: the same symbols in the
// same order, and every name resolving to the same one.
func TestFromELFMatchesDebugELF(t *testing.T) {
	f, err := elf.Open(filepath.Join(referenceDir(t), "vmlinux"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fast, err := FromELF(f)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	var syms []Symbol
	for _, s := range raw {
		if s.Section == elf.SHN_UNDEF {
			continue
		}
		addr := s.Value
		if f.Machine == elf.EM_ARM && elf.ST_TYPE(s.Info) == elf.STT_FUNC {
			addr &^= 1
		}
		syms = append(syms, Symbol{Name: s.Name, Addr: addr, Size: s.Size, Type: elf.ST_TYPE(s.Info),
			Global: elf.ST_BIND(s.Info) != elf.STB_LOCAL, Class: class(f, s.Section, s.Info)})
	}
	// The order and name preference spelled out plainly: by address,
	// higher rank first, then by name; a name means the first of its
	// highest rank in that order.
	want := slices.DeleteFunc(syms, func(s Symbol) bool { return !keep(s) })
	slices.SortFunc(want, func(a, b Symbol) int {
		return cmp.Or(cmp.Compare(a.Addr, b.Addr), cmp.Compare(rank(b), rank(a)), strings.Compare(a.Name, b.Name))
	})
	if !slices.Equal(fast.All(), want) {
		t.Fatalf("FromELF kept %d symbols, debug/elf's %d, or another order", fast.Len(), len(want))
	}
	byName := map[string]Symbol{}
	for _, s := range want {
		if old, ok := byName[s.Name]; !ok || rank(s) > rank(old) {
			byName[s.Name] = s
		}
	}
	for name, s := range byName {
		if got, err := fast.Lookup(name); got != s || err != nil {
			t.Fatalf("Lookup(%q): %+v %v, want %+v", name, got, err, s)
		}
	}
	if got := New(fast.All()); !slices.Equal(got.All(), want) {
		t.Errorf("New of a sorted table sorts it differently")
	}
}
