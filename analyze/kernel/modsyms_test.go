package kernel

import (
	"debug/elf"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"github.com/kdumpkit/kdumpkit/analyze/symbols"
)

// moduleFixture lays out the modules list (its head at memBase) with one
// module, "my_mod", whose kallsyms hold three symbols out of address
// order after the null one; the test kernels load no modules, so this is
// where Modules and ModuleSymbols meet a module.
func moduleFixture(tb testing.TB) (*Kernel, []byte) {
	tb.Helper()
	ty := typesOf(tb, "testdata/modules.so")
	off := func(typ, path string) uint64 {
		o, err := ty.Offset(typ, path)
		if err != nil {
			tb.Fatal(err)
		}
		return uint64(o)
	}
	m := make([]byte, 2048)
	put := func(addr, v uint64) { binary.LittleEndian.PutUint64(m[addr-memBase:], v) }
	const mod, ks, symtab, strtab, typetab = memBase + 0x100, memBase + 0x200, memBase + 0x300, memBase + 0x500, memBase + 0x580
	put(memBase, mod+off("struct module", "list"))
	put(mod+off("struct module", "list"), memBase)
	copy(m[mod+off("struct module", "name")-memBase:], "my_mod")
	put(mod+off("struct module", "core_layout.base"), 0xbf000000)
	binary.LittleEndian.PutUint32(m[mod+off("struct module", "core_layout.size")-memBase:], 0x3000)
	put(mod+off("struct module", "kallsyms"), ks)
	put(ks+off("struct mod_kallsyms", "symtab"), symtab)
	binary.LittleEndian.PutUint32(m[ks+off("struct mod_kallsyms", "num_symtab")-memBase:], 4)
	put(ks+off("struct mod_kallsyms", "strtab"), strtab)
	put(ks+off("struct mod_kallsyms", "typetab"), typetab)
	copy(m[strtab-memBase:], "\x00my_exit\x00my_init\x00my_data\x00")
	for i, s := range []struct {
		name  uint32
		value uint64
		typ   byte
	}{{}, {1, 0xbf000200, 't'}, {9, 0xbf000000, 'T'}, {17, 0xbf002000, 'd'}} {
		e := symtab + uint64(24*i)
		binary.LittleEndian.PutUint32(m[e-memBase:], s.name)
		put(e+8, s.value)
		m[typetab+uint64(i)-memBase] = s.typ
	}
	syms := symbols.New([]symbols.Symbol{{Name: "modules", Addr: memBase, Size: 16, Type: elf.STT_OBJECT, Global: true}})
	return New(byteMem(m), syms, ty, binary.LittleEndian, 8, nil), m
}

func TestModuleSymbols(t *testing.T) {
	k, m := moduleFixture(t)
	mods, err := k.Modules()
	if err != nil || len(mods) != 1 || mods[0].Name != "my_mod" || mods[0].Base != 0xbf000000 || mods[0].Size != 0x3000 {
		t.Fatalf("modules: %+v, %v", mods, err)
	}
	syms, err := k.ModuleSymbols(mods[0])
	var got []string
	for _, s := range syms {
		got = append(got, fmt.Sprintf("%x %c %s", s.Addr, s.Type, s.Name))
	}
	if want := "bf000000 T my_init,bf000200 t my_exit,bf002000 d my_data"; strings.Join(got, ",") != want || err != nil {
		t.Errorf("symbols %s (%v), want %s", strings.Join(got, ","), err, want)
	}
	// A num_symtab no module has is refused, not walked.
	ks := uint64(memBase + 0x200)
	o, _ := k.Types.Offset("struct mod_kallsyms", "num_symtab")
	binary.LittleEndian.PutUint32(m[ks+uint64(o)-memBase:], 1<<30)
	if _, err := k.ModuleSymbols(mods[0]); err == nil || !strings.Contains(err.Error(), "my_mod") {
		t.Errorf("a wild num_symtab: %v", err)
	}
}
