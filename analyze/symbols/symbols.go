package symbols

import (
	"cmp"
	"debug/elf"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"unsafe"
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
	sorted []Symbol // by Addr, then by preference (see rank); see all
	byName nameTable
	// file is the table file a loaded Table reads in place: At and
	// Lookup copy out only the symbols they return, and sorted is made
	// only for the callers that want every symbol.
	file      *tableFile
	allOnce   sync.Once
	allSorted []Symbol
}

// New builds a Table from symbols in any order. Mapping symbols ($a, $d, $t
// and their "$d.123" forms), file and section symbols and undefined or
// absolute-zero entries are dropped because they name no kernel object.
func New(syms []Symbol) *Table {
	kept := make([]Symbol, 0, len(syms))
	for _, s := range syms {
		if keep(s) {
			kept = append(kept, s)
		}
	}
	return build(kept)
}

// sortKey is what the address order compares: sorting 16-byte keys and
// moving each Symbol once costs a third of sorting the Symbols themselves
// (130k of them in a vmlinux, the largest part of opening one).
type sortKey struct {
	addr uint64
	rank int32
	i    int32 // index in kept
}

// build sorts kept by address while the other core maps names, the
// preferred symbol of a name being the one the address order puts first
// among those of the highest rank.
func build(kept []Symbol) *Table {
	t := &Table{}
	named := make(chan nameTable, 1)
	go func() { named <- newNameTable(kept) }()
	keys := make([]sortKey, len(kept))
	for i, s := range kept {
		keys[i] = sortKey{s.Addr, int32(rank(s)), int32(i)}
	}
	keys = radixSort(keys)
	// Symbols at one address: a total order (name last), so the table
	// does not depend on the order of the input.
	for lo := 0; lo < len(keys); {
		hi := lo + 1
		for hi < len(keys) && keys[hi].addr == keys[lo].addr {
			hi++
		}
		if hi-lo > 1 {
			slices.SortFunc(keys[lo:hi], func(a, b sortKey) int {
				if a.rank != b.rank {
					return cmp.Compare(b.rank, a.rank)
				}
				return strings.Compare(kept[a.i].Name, kept[b.i].Name)
			})
		}
		lo = hi
	}
	pos := make([]int32, len(kept))
	for p, k := range keys {
		pos[k.i] = int32(p)
	}
	t.byName = <-named
	for i, k := range t.byName.slots {
		if k >= 0 {
			t.byName.slots[i] = pos[k] // now an index into sorted
		}
	}
	// Move each symbol to its place in kept itself, a cycle at a time,
	// rather than into a second 4 MB slice.
	for i := range kept {
		for p := pos[i]; p != int32(i); p = pos[i] {
			kept[i], kept[p] = kept[p], kept[i]
			pos[i], pos[p] = pos[p], p
		}
	}
	t.sorted = kept
	t.byName.syms = t.sorted
	return t
}

// nameTable finds a symbol by name: open addressing over indexes into
// syms, built in a third of the time of a Go map of 90k strings, and
// kept in a table file as it is (the hash does not change between runs).
// A loaded table reads names and slots from its file.
type nameTable struct {
	syms  []Symbol
	slots []int32 // -1: empty
	file  *tableFile
}

func newNameTable(syms []Symbol) nameTable {
	n := 16
	for n < 2*len(syms) {
		n *= 2
	}
	t := nameTable{syms: syms, slots: make([]int32, n)}
	for i := range t.slots {
		t.slots[i] = -1
	}
	for i := range syms {
		s := &syms[i]
		j := t.slot(s.Name)
		switch old := t.slots[j]; {
		case old < 0:
			t.slots[j] = int32(i)
		case rank(*s) > rank(syms[old]) || (rank(*s) == rank(syms[old]) && s.Addr < syms[old].Addr):
			t.slots[j] = int32(i)
		}
	}
	return t
}

// slot is where name is, or the empty slot where it would go.
func (t nameTable) slot(name string) int {
	if t.file != nil {
		mask := t.file.nslots - 1
		for j := int(hashName(name)) & mask; ; j = (j + 1) & mask {
			if k := t.file.slot(j); k < 0 || string(t.file.name(int(k))) == name {
				return j
			}
		}
	}
	mask := len(t.slots) - 1
	for j := int(hashName(name)) & mask; ; j = (j + 1) & mask {
		if k := t.slots[j]; k < 0 || t.syms[k].Name == name {
			return j
		}
	}
}

// hashName is 64-bit FNV-1a.
func hashName(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

func (t nameTable) find(name string) (Symbol, bool) {
	if t.file != nil {
		if k := t.file.slot(t.slot(name)); k >= 0 {
			return t.file.symbol(int(k)), true
		}
		return Symbol{}, false
	}
	if len(t.slots) == 0 {
		return Symbol{}, false
	}
	k := t.slots[t.slot(name)]
	if k < 0 {
		return Symbol{}, false
	}
	return t.syms[k], true
}

// radixSort orders keys by address, a byte at a time from the lowest
// (stable, so each pass keeps the order of the ones before), skipping the
// bytes every address shares: four passes for a 32-bit kernel, where a
// comparison sort of 90k keys took most of the table's build.
func radixSort(keys []sortKey) []sortKey {
	if len(keys) < 2 {
		return keys
	}
	buf := make([]sortKey, len(keys))
	for shift := uint(0); shift < 64; shift += 8 {
		var count [256]int
		for _, k := range keys {
			count[byte(k.addr>>shift)]++
		}
		if count[byte(keys[0].addr>>shift)] == len(keys) {
			continue // every key has this byte
		}
		sum := 0
		for b, n := range count {
			count[b] = sum
			sum += n
		}
		for _, k := range keys {
			b := byte(k.addr >> shift)
			buf[count[b]] = k
			count[b]++
		}
		keys, buf = buf, keys
	}
	return keys
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

// rank orders symbols at one address: functions and objects before
// untyped labels, globals before locals, sized before unsized, so that an
// address resolves to "panic" rather than to a local label at the same spot.
func rank(s Symbol) int {
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

// FromELF reads the .symtab of an ELF file. It decodes the entries itself
// and slices the names out of one copy of .strtab: debug/elf's Symbols
// allocates every name and every entry, twice the time of the rest.
func FromELF(f *elf.File) (*Table, error) {
	sec := f.SectionByType(elf.SHT_SYMTAB)
	if sec == nil {
		return nil, ErrNoSymbols
	}
	size := 16 // Elf32_Sym
	if f.Class == elf.ELFCLASS64 {
		size = 24 // Elf64_Sym
	}
	if sec.Size%uint64(size) != 0 {
		return nil, fmt.Errorf("reading .symtab: %d bytes, not a whole number of %d-byte entries", sec.Size, size)
	}
	if int(sec.Link) <= 0 || int(sec.Link) >= len(f.Sections) {
		return nil, fmt.Errorf("reading .symtab: string table section %d does not exist", sec.Link)
	}
	strtab, err := f.Sections[sec.Link].Data()
	if err != nil {
		return nil, fmt.Errorf("reading .symtab's string table: %w", err)
	}
	// The names are slices of .strtab, which nothing writes after this:
	// one string over it instead of a copy (1.8 MB for a vmlinux).
	strs := unsafe.String(unsafe.SliceData(strtab), len(strtab))
	kept := make([]Symbol, 0, sec.Size/uint64(size))
	// The entries are read 4096 at a time into one buffer: reading the
	// 2 MB section whole cost a page fault per page of fresh heap.
	buf := make([]byte, 4096*size)
	for base := uint64(0); base < sec.Size; base += uint64(len(buf)) {
		chunk := buf[:min(uint64(len(buf)), sec.Size-base)]
		if _, err := sec.ReadAt(chunk, int64(base)); err != nil {
			return nil, fmt.Errorf("reading .symtab at %#x: %w", base, err)
		}
		for p := 0; p+size <= len(chunk); p += size {
			if base == 0 && p == 0 {
				continue // the null symbol
			}
			if s, ok := elfSymbol(f, chunk[p:p+size], strs); ok {
				kept = append(kept, s)
			}
		}
	}
	return build(kept), nil
}

// elfSymbol decodes one Elf32_Sym or Elf64_Sym entry, or says it is not
// kept (see keep).
func elfSymbol(f *elf.File, e []byte, strs string) (Symbol, bool) {
	bo := f.ByteOrder
	var nameOff uint32
	var info byte
	var shndx elf.SectionIndex
	var value, sz uint64
	if len(e) == 16 {
		nameOff, value, sz = bo.Uint32(e), uint64(bo.Uint32(e[4:])), uint64(bo.Uint32(e[8:]))
		info, shndx = e[12], elf.SectionIndex(bo.Uint16(e[14:]))
	} else {
		nameOff, info, shndx = bo.Uint32(e), e[4], elf.SectionIndex(bo.Uint16(e[6:]))
		value, sz = bo.Uint64(e[8:]), bo.Uint64(e[16:])
	}
	if shndx == elf.SHN_UNDEF || int(nameOff) >= len(strs) {
		return Symbol{}, false
	}
	name := strs[nameOff:]
	if n := strings.IndexByte(name, 0); n >= 0 {
		name = name[:n]
	}
	if f.Machine == elf.EM_ARM && elf.ST_TYPE(info) == elf.STT_FUNC {
		value &^= 1 // bit 0 marks a Thumb function (AAELF32 §5.5.3), not its address
	}
	s := Symbol{
		Name:   name,
		Addr:   value,
		Size:   sz,
		Type:   elf.ST_TYPE(info),
		Global: elf.ST_BIND(info) != elf.STB_LOCAL,
	}
	if !keep(s) {
		return Symbol{}, false
	}
	s.Class = class(f, shndx, info)
	return s, true
}

// class is the nm(1) letter of an ELF symbol, as binutils' bfd decodes
// it (bfd_decode_symclass): absolute and weak first, then by the flags
// of the symbol's section; global symbols in upper case.
func class(f *elf.File, section elf.SectionIndex, info byte) byte {
	var c byte
	switch {
	case section == elf.SHN_ABS:
		c = 'a'
	case section == elf.SHN_COMMON:
		return 'C'
	case elf.ST_BIND(info) == elf.STB_WEAK:
		if elf.ST_TYPE(info) == elf.STT_OBJECT {
			return 'V'
		}
		return 'W'
	case int(section) >= len(f.Sections):
		return '?'
	default:
		sec := f.Sections[section]
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
	if elf.ST_BIND(info) != elf.STB_LOCAL {
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
func (t *Table) Len() int {
	if t.file != nil {
		return t.file.n
	}
	return len(t.sorted)
}

// addrAt and symAt read the i-th symbol in address order.
func (t *Table) addrAt(i int) uint64 {
	if t.file != nil {
		return t.file.addr(i)
	}
	return t.sorted[i].Addr
}

func (t *Table) symAt(i int) Symbol {
	if t.file != nil {
		return t.file.symbol(i)
	}
	return t.sorted[i]
}

// Lookup returns the symbol name by name.
func (t *Table) Lookup(name string) (Symbol, error) {
	s, ok := t.byName.find(name)
	if !ok {
		return Symbol{}, fmt.Errorf("%q: %w", name, ErrNotFound)
	}
	return s, nil
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
	n := t.Len()
	i := sort.Search(n, func(i int) bool { return t.addrAt(i) > addr })
	if i == 0 {
		return Symbol{}, 0, fmt.Errorf("%#x: %w", addr, ErrNotFound)
	}
	j := i - 1
	for j > 0 && t.addrAt(j-1) == t.addrAt(j) {
		j-- // the first of equal addresses is the preferred one
	}
	s := t.symAt(j)
	off := addr - s.Addr
	covered := (s.Size > 0 && off < s.Size) || off < maxGap ||
		(s.Size == 0 && i < n)
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
func (t *Table) All() []Symbol {
	if t.file == nil {
		return t.sorted
	}
	t.allOnce.Do(func() {
		t.allSorted = make([]Symbol, t.file.n)
		for i := range t.allSorted {
			t.allSorted[i] = t.file.symbol(i)
		}
	})
	return t.allSorted
}

// Search returns the symbols whose name contains sub, sorted by address.
func (t *Table) Search(sub string) []Symbol {
	var out []Symbol
	for _, s := range t.All() {
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
	moved := make([]Symbol, t.Len())
	for i, s := range t.All() {
		s.Addr += offset
		moved[i] = s
	}
	return New(moved)
}
