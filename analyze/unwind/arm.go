package unwind

import (
	"debug/elf"
	"encoding/binary"
	"fmt"
	"sort"

	"github.com/kdumpkit/kdumpkit/analyze/arch"
)

// Register numbers of the ARM core registers the unwinder tracks.
const (
	SP = 13
	LR = 14
	PC = 15
)

// ARMRegs is the core register file r0–r15.
type ARMRegs [16]uint32

// wordStack reads the 32-bit words the EHABI virtual machine pops.
type wordStack interface {
	ReadU32(addr uint32) (uint32, error)
}

// armStack narrows Memory to 32-bit words.
type armStack struct{ m Memory }

func (s armStack) ReadU32(addr uint32) (uint32, error) {
	v, err := s.m.ReadUint(uint64(addr), 4)
	return uint32(v), err
}

// ARM holds the decoded index of one image's .ARM.exidx table; it is the
// Unwinder of ARM32 kernels built with UNWINDER_ARM.
type ARM struct {
	arch    arch.Arch
	order   binary.ByteOrder
	entries []exidxEntry // sorted by fn
	extab   []region     // sections prel31 words may point into
}

type exidxEntry struct {
	fn   uint32 // function start address
	word uint32 // second word, raw
	at   uint32 // address of the second word (base for its prel31)
}

type region struct {
	addr uint32
	data []byte
}

const (
	exidxCantUnwind = 1
	shtARMExidx     = elf.SectionType(0x70000001) // SHT_ARM_EXIDX, AAELF32 §5.3
)

// LoadARM reads .ARM.exidx (the SHT_ARM_EXIDX section; the kernel names it
// .ARM.unwind_idx) and the extab it refers to from an ARM ELF image.
func LoadARM(f *elf.File) (*ARM, error) {
	if f.Machine != elf.EM_ARM {
		return nil, fmt.Errorf("%v image: %w", f.Machine, ErrNoTable)
	}
	a := &ARM{arch: armArch(), order: f.ByteOrder}
	for _, s := range f.Sections {
		if s.Flags&elf.SHF_ALLOC == 0 || s.Type == elf.SHT_NOBITS {
			continue
		}
		isIdx := s.Type == shtARMExidx
		isTab := s.Name == ".ARM.extab" || s.Name == ".ARM.unwind_tab"
		if !isIdx && !isTab {
			continue
		}
		data, err := s.Data()
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", s.Name, err)
		}
		if isTab {
			a.extab = append(a.extab, region{addr: uint32(s.Addr), data: data})
			continue
		}
		entries, err := parseExidx(data, uint32(s.Addr), f.ByteOrder)
		if err != nil {
			return nil, fmt.Errorf("section %s: %w", s.Name, err)
		}
		a.entries = append(a.entries, entries...)
	}
	if len(a.entries) == 0 {
		return nil, ErrNoTable
	}
	sort.Slice(a.entries, func(i, j int) bool { return a.entries[i].fn < a.entries[j].fn })
	return a, nil
}

// NewARM builds an unwinder from raw exidx bytes at exidxAddr and one extab
// region; tests and fuzzers use it.
func NewARM(exidx []byte, exidxAddr uint32, extab []byte, extabAddr uint32, bo binary.ByteOrder) (*ARM, error) {
	entries, err := parseExidx(exidx, exidxAddr, bo)
	if err != nil {
		return nil, err
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].fn < entries[j].fn })
	return &ARM{arch: armArch(), order: bo, entries: entries, extab: []region{{extabAddr, extab}}}, nil
}

// armArch is the seam's ARM32: the register layout and frame conventions
// the walk follows.
func armArch() arch.Arch {
	a, err := arch.ForMachine(elf.EM_ARM)
	if err != nil {
		panic(err) // ARM is always known to package arch
	}
	return a
}

func parseExidx(data []byte, base uint32, bo binary.ByteOrder) ([]exidxEntry, error) {
	if len(data)%8 != 0 {
		return nil, fmt.Errorf("exidx size %d is not a multiple of 8", len(data))
	}
	out := make([]exidxEntry, 0, len(data)/8)
	for off := 0; off < len(data); off += 8 {
		w0 := bo.Uint32(data[off:])
		if w0&0x80000000 != 0 {
			return nil, fmt.Errorf("exidx entry at %#x: first word %#08x has bit 31 set", base+uint32(off), w0)
		}
		at := base + uint32(off)
		out = append(out, exidxEntry{fn: prel31(w0, at), word: bo.Uint32(data[off+4:]), at: at + 4})
	}
	return out, nil
}

// prel31 resolves a place-relative 31-bit offset stored at address at.
func prel31(w, at uint32) uint32 {
	off := int32(w<<1) >> 1 // sign-extend bit 30
	return at + uint32(off)
}

// FuncStart returns the start of the function whose unwind entry covers pc.
func (a *ARM) FuncStart(pc uint32) (uint32, bool) {
	e, ok := a.lookup(pc)
	return e.fn, ok
}

func (a *ARM) lookup(pc uint32) (exidxEntry, bool) {
	i := sort.Search(len(a.entries), func(i int) bool { return a.entries[i].fn > pc })
	if i == 0 {
		return exidxEntry{}, false
	}
	return a.entries[i-1], true
}

// instructions returns the unwind opcode bytes for an entry, in execution order.
func (a *ARM) instructions(e exidxEntry) ([]byte, error) {
	if e.word == exidxCantUnwind {
		return nil, ErrCantUnwind
	}
	if e.word&0x80000000 != 0 { // inline compact model
		return compact(e.word, nil)
	}
	addr := prel31(e.word, e.at)
	w, err := a.extabWord(addr)
	if err != nil {
		return nil, err
	}
	if w&0x80000000 == 0 {
		return nil, fmt.Errorf("extab %#x: %w", addr, ErrPersonality)
	}
	n := 0
	if (w>>24)&0xf != 0 { // lu16/lu32: bits 16–23 count extra words
		n = int(w>>16) & 0xff
	}
	extra := make([]uint32, n)
	for i := range extra {
		if extra[i], err = a.extabWord(addr + 4 + uint32(i)*4); err != nil {
			return nil, err
		}
	}
	return compact(w, extra)
}

func (a *ARM) extabWord(addr uint32) (uint32, error) {
	for _, r := range a.extab {
		if addr >= r.addr && uint64(addr)+4 <= uint64(r.addr)+uint64(len(r.data)) {
			return a.order.Uint32(r.data[addr-r.addr:]), nil
		}
	}
	return 0, fmt.Errorf("extab word at %#x lies outside .ARM.extab", addr)
}

// compact unpacks a compact-model first word (personality index in bits
// 24–27) and its extra words into opcode bytes.
func compact(w uint32, extra []uint32) ([]byte, error) {
	var ops []byte
	switch idx := (w >> 24) & 0xf; idx {
	case 0: // su16: three opcode bytes
		ops = []byte{byte(w >> 16), byte(w >> 8), byte(w)}
	case 1, 2: // lu16, lu32: two bytes here, four per extra word
		ops = []byte{byte(w >> 8), byte(w)}
	default:
		return nil, fmt.Errorf("personality index %d: %w", idx, ErrPersonality)
	}
	for _, x := range extra {
		ops = append(ops, byte(x>>24), byte(x>>16), byte(x>>8), byte(x))
	}
	return ops, nil
}
