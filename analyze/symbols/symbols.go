package symbols

import (
	"debug/elf"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Sentinel errors of this package; callers test them with errors.Is.
var (
	// ErrNoSymbols means the ELF file has no .symtab (a stripped vmlinux).
	ErrNoSymbols = errors.New("no symbol table")
	// ErrNotFound means no symbol has the name or covers the address asked for.
	ErrNotFound = errors.New("symbol not found")
)

// Symbol is one named address of the kernel image.
type Symbol struct {
	Name   string
	Addr   uint64
	Size   uint64
	Type   elf.SymType
	Global bool
	// Class is the symbol's nm(1) letter, as crash's sym prints it: T/t
	// text, D/d data, R/r read-only data, B/b bss, A absolute, W weak;
	// upper case for global symbols. 0 when unknown.
	Class byte
}

// Table answers address→symbol and name→symbol questions. It is built once
// and read-only afterwards, so it may be shared between goroutines.
type Table struct {
	sorted []Symbol       // by Addr, then by preference (see better)
	byName map[string]int // index into sorted of the preferred symbol of that name
}

// New builds a Table from symbols in any order. Mapping symbols ($a, $d, $t
// and their "$d.123" forms), file and section symbols and undefined or
// absolute-zero entries are dropped because they name no kernel object.
func New(syms []Symbol) *Table {
	t := &Table{byName: make(map[string]int, len(syms))}
	for _, s := range syms {
		if keep(s) {
			t.sorted = append(t.sorted, s)
		}
	}
	// A total order (name last) so an unstable sort is deterministic;
	// sort.SliceStable's reflection swapper made this the slowest part of
	// opening a vmlinux (130k symbols).
	slices.SortFunc(t.sorted, func(a, b Symbol) int {
		switch {
		case a.Addr < b.Addr:
			return -1
		case a.Addr > b.Addr:
			return 1
		case better(a, b):
			return -1
		case better(b, a):
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	for i, s := range t.sorted {
		if j, ok := t.byName[s.Name]; !ok || better(s, t.sorted[j]) {
			t.byName[s.Name] = i
		}
	}
	return t
}

func keep(s Symbol) bool {
	if s.Name == "" || strings.HasPrefix(s.Name, "$") {
		return false
	}
	switch s.Type {
	case elf.STT_FILE, elf.STT_SECTION:
		return false
	}
	return true
}

// better orders symbols at one address: functions and objects before
// untyped labels, globals before locals, sized before unsized, so that an
// address resolves to "panic" rather than to a local label at the same spot.
func better(a, b Symbol) bool {
	rank := func(s Symbol) int {
		r := 0
		if s.Type == elf.STT_FUNC || s.Type == elf.STT_OBJECT {
			r += 4
		}
		if s.Global {
			r += 2
		}
		if s.Size > 0 {
			r++
		}
		return r
	}
	return rank(a) > rank(b)
}

// FromELF reads the .symtab of an ELF file.
func FromELF(f *elf.File) (*Table, error) {
	raw, err := f.Symbols()
	if err != nil {
		if errors.Is(err, elf.ErrNoSymbols) {
			return nil, ErrNoSymbols
		}
		return nil, fmt.Errorf("reading .symtab: %w", err)
	}
	syms := make([]Symbol, 0, len(raw))
	for _, s := range raw {
		if s.Section == elf.SHN_UNDEF {
			continue
		}
		addr := s.Value
		if f.Machine == elf.EM_ARM && elf.ST_TYPE(s.Info) == elf.STT_FUNC {
			addr &^= 1 // bit 0 marks a Thumb function (AAELF32 §5.5.3), not its address
		}
		syms = append(syms, Symbol{
			Name:   s.Name,
			Addr:   addr,
			Size:   s.Size,
			Type:   elf.ST_TYPE(s.Info),
			Global: elf.ST_BIND(s.Info) != elf.STB_LOCAL,
			Class:  class(f, s),
		})
	}
	return New(syms), nil
}

// class is the nm(1) letter of an ELF symbol, as binutils' bfd decodes
// it (bfd_decode_symclass): absolute and weak first, then by the flags
// of the symbol's section; global symbols in upper case.
func class(f *elf.File, s elf.Symbol) byte {
	var c byte
	switch {
	case s.Section == elf.SHN_ABS:
		c = 'a'
	case s.Section == elf.SHN_COMMON:
		return 'C'
	case elf.ST_BIND(s.Info) == elf.STB_WEAK:
		if elf.ST_TYPE(s.Info) == elf.STT_OBJECT {
			return 'V'
		}
		return 'W'
	case int(s.Section) >= len(f.Sections):
		return '?'
	default:
		sec := f.Sections[s.Section]
		switch {
		case sec.Flags&elf.SHF_EXECINSTR != 0:
			c = 't'
		case sec.Type == elf.SHT_NOBITS:
			c = 'b'
		case sec.Flags&elf.SHF_ALLOC == 0:
			c = 'n'
		case sec.Flags&elf.SHF_WRITE != 0:
			c = 'd'
		default:
			c = 'r'
		}
	}
	if elf.ST_BIND(s.Info) != elf.STB_LOCAL {
		c -= 'a' - 'A'
	}
	return c
}

// Letter is the symbol's nm(1) letter: Class, or one guessed from its
// type and binding when the source did not say.
func (s Symbol) Letter() byte {
	if s.Class != 0 {
		return s.Class
	}
	c := byte('?')
	switch s.Type {
	case elf.STT_FUNC:
		c = 't'
	case elf.STT_OBJECT:
		c = 'd'
	default:
		return c
	}
	if s.Global {
		c -= 'a' - 'A'
	}
	return c
}

// Len is the number of symbols kept.
func (t *Table) Len() int { return len(t.sorted) }

// Lookup returns the symbol name by name.
func (t *Table) Lookup(name string) (Symbol, error) {
	i, ok := t.byName[name]
	if !ok {
		return Symbol{}, fmt.Errorf("%q: %w", name, ErrNotFound)
	}
	return t.sorted[i], nil
}

// Addr returns the address of the symbol name.
func (t *Table) Addr(name string) (uint64, error) {
	s, err := t.Lookup(name)
	return s.Addr, err
}

// At returns the symbol covering addr and addr's offset into it. Like
// kallsyms it picks the nearest symbol at or below addr; it refuses when
// addr lies past the end of a sized symbol by more than maxGap or past the
// last symbol, so that a vmalloc or user address is not named
// "_end+0x5f3a0000".
func (t *Table) At(addr uint64) (Symbol, uint64, error) {
	i := sort.Search(len(t.sorted), func(i int) bool { return t.sorted[i].Addr > addr })
	if i == 0 {
		return Symbol{}, 0, fmt.Errorf("%#x: %w", addr, ErrNotFound)
	}
	j := i - 1
	for j > 0 && t.sorted[j-1].Addr == t.sorted[j].Addr {
		j-- // the first of equal addresses is the preferred one
	}
	s := t.sorted[j]
	off := addr - s.Addr
	covered := (s.Size > 0 && off < s.Size) || off < maxGap ||
		(s.Size == 0 && i < len(t.sorted))
	if !covered {
		return Symbol{}, 0, fmt.Errorf("%#x: %w (past the end of %s)", addr, ErrNotFound, s.Name)
	}
	return s, off, nil
}

// maxGap is how far past a symbol's end an address may lie and still be
// named after it (alignment padding between functions).
const maxGap = 4096

// Format renders addr as "name+0xoff" (or "name" at offset 0), or as a hex
// number when no symbol covers it.
func (t *Table) Format(addr uint64) string {
	s, off, err := t.At(addr)
	if err != nil {
		return fmt.Sprintf("%#x", addr)
	}
	if off == 0 {
		return s.Name
	}
	return fmt.Sprintf("%s+%#x", s.Name, off)
}

// All returns the kept symbols sorted by address. The slice is shared; do
// not modify it.
func (t *Table) All() []Symbol { return t.sorted }

// Search returns the symbols whose name contains sub, sorted by address.
func (t *Table) Search(sub string) []Symbol {
	var out []Symbol
	for _, s := range t.sorted {
		if strings.Contains(s.Name, sub) {
			out = append(out, s)
		}
	}
	return out
}

// Relocate returns a copy of t with every address moved by offset: a
// vmlinux's link-time symbols at the addresses a KASLR kernel ran at
// (VMCOREINFO's KERNELOFFSET). The addresses wrap as the CPU's do, and
// the copy is sorted anew in case that reorders them.
func (t *Table) Relocate(offset uint64) *Table {
	moved := make([]Symbol, len(t.sorted))
	for i, s := range t.sorted {
		s.Addr += offset
		moved[i] = s
	}
	return New(moved)
}
