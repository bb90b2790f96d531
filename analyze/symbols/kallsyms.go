package symbols

import (
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
)

// ErrNoKallsyms means VMCOREINFO lacks the kallsyms_* addresses (kernels
// before 6.0, or built without CONFIG_KALLSYMS).
var ErrNoKallsyms = errors.New("no kallsyms addresses in VMCOREINFO")

// Memory reads the dumped kernel's virtual memory.
type Memory interface {
	ReadVirt(addr uint64, buf []byte) error
}

// maxKallsyms bounds kallsyms_num_syms read from a dump.
const maxKallsyms = 1 << 22

// FromKallsyms rebuilds the symbol table from the kernel's own compressed
// kallsyms tables, located through VMCOREINFO's SYMBOL(kallsyms_*) entries
// (added in 6.0), for dumps analysed without a vmlinux. It follows
// kernel/kallsyms.c of 6.1: names as a length byte (two bytes when the top
// bit is set, since 6.1) and token indexes, the first character being the
// nm type; addresses as kallsyms_relative_base + (u32)kallsyms_offsets[i]
// (CONFIG_KALLSYMS_BASE_RELATIVE without ABSOLUTE_PERCPU, as on ARM).
func FromKallsyms(mem Memory, info map[string]string, bo binary.ByteOrder, ptrSize int) (*Table, error) {
	addr := func(name string) (uint64, error) {
		v, ok := info["SYMBOL("+name+")"]
		if !ok {
			return 0, fmt.Errorf("%w: SYMBOL(%s) missing", ErrNoKallsyms, name)
		}
		a, err := strconv.ParseUint(v, 16, 64)
		if err != nil {
			return 0, fmt.Errorf("VMCOREINFO SYMBOL(%s)=%q: %w", name, v, err)
		}
		return a, nil
	}
	var at [6]uint64
	for i, n := range []string{"kallsyms_num_syms", "kallsyms_names", "kallsyms_token_table", "kallsyms_token_index", "kallsyms_offsets", "kallsyms_relative_base"} {
		var err error
		if at[i], err = addr(n); err != nil {
			return nil, err
		}
	}
	read := func(a uint64, n int) ([]byte, error) {
		b := make([]byte, n)
		if err := mem.ReadVirt(a, b); err != nil {
			return nil, fmt.Errorf("kallsyms: reading %d bytes at %#x: %w", n, a, err)
		}
		return b, nil
	}
	b, err := read(at[0], 4)
	if err != nil {
		return nil, err
	}
	num := int(bo.Uint32(b))
	if num <= 0 || num > maxKallsyms {
		return nil, fmt.Errorf("kallsyms_num_syms = %d: not plausible", num)
	}
	b, err = read(at[5], ptrSize)
	if err != nil {
		return nil, err
	}
	base := uint64(bo.Uint32(b))
	if ptrSize == 8 {
		base = bo.Uint64(b)
	}
	offsets, err := read(at[4], 4*num)
	if err != nil {
		return nil, err
	}
	tokIdx, err := read(at[3], 2*256)
	if err != nil {
		return nil, err
	}
	// The token table ends where the token index starts (the linker puts
	// them back to back); bound it anyway.
	tokLen := int(min(at[3]-at[2], 1<<16))
	if at[3] <= at[2] {
		tokLen = 1 << 14
	}
	tokens, err := read(at[2], tokLen)
	if err != nil {
		return nil, err
	}
	namesLen := int(min(at[4]-at[1], 64<<20)) // names precede the offsets in 6.1's layout
	if at[4] <= at[1] {
		namesLen = num * 32
	}
	names, err := read(at[1], namesLen)
	if err != nil {
		return nil, err
	}
	syms, err := decodeKallsyms(names, tokens, tokIdx, offsets, num, base, bo)
	if err != nil {
		return nil, err
	}
	return New(syms), nil
}

func decodeKallsyms(names, tokens, tokIdx, offsets []byte, num int, base uint64, bo binary.ByteOrder) ([]Symbol, error) {
	token := func(i byte) ([]byte, error) {
		start := int(bo.Uint16(tokIdx[2*int(i):]))
		for end := start; end < len(tokens); end++ {
			if tokens[end] == 0 {
				return tokens[start:end], nil
			}
		}
		return nil, fmt.Errorf("kallsyms token %d at %d: unterminated", i, start)
	}
	syms := make([]Symbol, 0, num)
	off := 0
	for i := 0; i < num; i++ {
		if off >= len(names) {
			return nil, fmt.Errorf("kallsyms_names: symbol %d of %d past the table's %d bytes", i, num, len(names))
		}
		n := int(names[off])
		off++
		if n&0x80 != 0 {
			if off >= len(names) {
				return nil, fmt.Errorf("kallsyms_names: symbol %d: length cut short", i)
			}
			n = n&0x7f | int(names[off])<<7
			off++
		}
		if off+n > len(names) {
			return nil, fmt.Errorf("kallsyms_names: symbol %d: %d bytes past the table", i, n)
		}
		var name []byte
		for _, t := range names[off : off+n] {
			tok, err := token(t)
			if err != nil {
				return nil, err
			}
			name = append(name, tok...)
		}
		off += n
		if len(name) < 2 {
			continue
		}
		typ := name[0]
		s := Symbol{Name: string(name[1:]), Addr: base + uint64(bo.Uint32(offsets[4*i:])), Global: typ >= 'A' && typ <= 'Z'}
		switch typ | 0x20 {
		case 't', 'w':
			s.Type = elf.STT_FUNC
		case 'd', 'b', 'r', 'g', 's', 'v':
			s.Type = elf.STT_OBJECT
		}
		syms = append(syms, s)
	}
	return syms, nil
}
