package kernel

import (
	"fmt"
	"sort"
)

// ModuleSymbol is one symbol of a loaded module's kallsyms.
type ModuleSymbol struct {
	Name string
	Addr uint64
	Type byte // nm's letter, as the module's typetab keeps it
}

// maxModuleSymbols bounds num_symtab: a module has thousands at most.
const maxModuleSymbols = 1 << 18

// ModuleSymbols reads a loaded module's symbols from its kallsyms
// (struct mod_kallsyms: symtab of Elf_Sym, num_symtab, strtab, and
// typetab's letter per symbol, kernel/module/kallsyms.c, 6.1), by
// address, the null symbol and unnamed ones left out.
func (k *Kernel) ModuleSymbols(m Module) ([]ModuleSymbol, error) {
	ks, err := k.field(m.Addr, "struct module", "kallsyms")
	if err != nil {
		return nil, fmt.Errorf("module %s: %w", m.Name, err)
	}
	const mk = "struct mod_kallsyms"
	symtab, err1 := k.field(ks, mk, "symtab")
	n, err2 := k.field(ks, mk, "num_symtab")
	strtab, err3 := k.field(ks, mk, "strtab")
	typetab, _ := k.field(ks, mk, "typetab")
	if err := firstErr(err1, err2, err3); err != nil {
		return nil, fmt.Errorf("module %s kallsyms %#x: %w", m.Name, ks, err)
	}
	if n > maxModuleSymbols {
		return nil, fmt.Errorf("module %s: num_symtab %d is not a module's", m.Name, n)
	}
	// Elf32_Sym: name, value, size, info, other, shndx (16 bytes);
	// Elf64_Sym: name, info, other, shndx, value, size (24 bytes).
	size, valueOff := uint64(16), uint64(4)
	if k.PtrSize == 8 {
		size, valueOff = 24, 8
	}
	var out []ModuleSymbol
	for i := uint64(1); i < n; i++ {
		sym := symtab + i*size
		nameOff, err := k.ReadUint(sym, 4)
		if err != nil {
			return out, fmt.Errorf("module %s symbol %d at %#x: %w", m.Name, i, sym, err)
		}
		value, err := k.ReadUint(sym+valueOff, k.PtrSize)
		if err != nil {
			return out, fmt.Errorf("module %s symbol %d at %#x: %w", m.Name, i, sym, err)
		}
		name, err := k.ReadString(strtab+nameOff, 128)
		if err != nil || name == "" {
			continue
		}
		s := ModuleSymbol{Name: name, Addr: value, Type: '?'}
		if typetab != 0 {
			if t, err := k.ReadUint(typetab+i, 1); err == nil {
				s.Type = byte(t)
			}
		}
		out = append(out, s)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Addr < out[j].Addr })
	return out, nil
}
