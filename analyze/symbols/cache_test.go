package symbols

import (
	"debug/elf"
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestTableFileRoundTrip saves the test dump's vmlinux table and loads it
// back: the same symbols in the same order, every name found again; a
// changed byte or a cut file is refused.
func TestTableFileRoundTrip(t *testing.T) {
	f, err := elf.Open(filepath.Join(referenceDir(t), "vmlinux"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	built, err := FromELF(f)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "symbols")
	if err := built.Save(path); err != nil {
		t.Fatal(err)
	}
	loaded, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(loaded.All(), built.All()) {
		t.Fatalf("loaded %d symbols, built %d, or another order", loaded.Len(), built.Len())
	}
	for _, s := range built.All() {
		a, err1 := loaded.Lookup(s.Name)
		b, err2 := built.Lookup(s.Name)
		if a != b || err1 != nil || err2 != nil {
			t.Fatalf("Lookup(%q): loaded %+v %v, built %+v %v", s.Name, a, err1, b, err2)
		}
	}
	all := built.All()
	for i := 0; i < len(all); i += 37 {
		for _, addr := range []uint64{all[i].Addr, all[i].Addr + 2, all[i].Addr + 5000} {
			a, offA, errA := loaded.At(addr)
			b, offB, errB := built.At(addr)
			if a != b || offA != offB || (errA == nil) != (errB == nil) {
				t.Fatalf("At(%#x): loaded %+v+%d %v, built %+v+%d %v", addr, a, offA, errA, b, offB, errB)
			}
		}
	}
	if _, err := loaded.Lookup("no_such_symbol_anywhere"); err == nil {
		t.Error("a missing name was found")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	damaged := slices.Clone(b)
	damaged[len(damaged)/2] ^= 1
	if _, err := parseTable(damaged); err == nil {
		t.Error("a changed byte was not noticed")
	}
	if _, err := parseTable(b[:len(b)-1]); err == nil {
		t.Error("a cut file was not noticed")
	}
}

func FuzzParseTable(f *testing.F) {
	tab := New([]Symbol{
		{Name: "panic", Addr: 0x1000, Size: 0x40, Type: elf.STT_FUNC, Global: true, Class: 'T'},
		{Name: "vfs_write", Addr: 0x1040, Size: 0x20, Type: elf.STT_FUNC, Global: true, Class: 'T'},
		{Name: "jiffies", Addr: 0x9000, Size: 4, Type: elf.STT_OBJECT, Global: true, Class: 'D'},
	})
	path := filepath.Join(f.TempDir(), "symbols")
	if err := tab.Save(path); err != nil {
		f.Fatal(err)
	}
	seed, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) >= tableHeader { // past the checksum, to the structure behind it
			binary.LittleEndian.PutUint32(b[len(tableMagic):], crc32.Checksum(b[len(tableMagic)+4:], castagnoli))
		}
		tf, err := parseTable(b)
		if err != nil {
			return
		}
		tab := fileTable(tf)
		for _, name := range []string{"panic", "jiffies", "x"} {
			_, _ = tab.Lookup(name) // must end: a parsed table has an empty slot
		}
		_, _, _ = tab.At(0x1010)
	})
}
