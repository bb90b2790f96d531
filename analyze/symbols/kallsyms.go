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
	at, err := kallsymsAddrs(info)
	if err != nil {
		return nil, err
	}
	read := func(a uint64, n int) ([]byte, error) {
		b := make([]byte, n)
		if err := mem.ReadVirt(a, b); err != nil {
			return nil, fmt.Errorf("kallsyms: reading %d bytes at %#x: %w", n, a, err)
		}
		return b, nil
	}
	b, err := read(at.numSyms, 4)
	if err != nil {
		return nil, err
	}
	num := int(bo.Uint32(b))
	if num <= 0 || num > maxKallsyms {
		return nil, fmt.Errorf("kallsyms_num_syms = %d: not plausible", num)
	}
	if b, err = read(at.relativeBase, ptrSize); err != nil {
		return nil, err
	}
	base := uint64(bo.Uint32(b))
	if ptrSize == 8 {
		base = bo.Uint64(b)
	}
	var tab kallsymsTables
	if tab, err = at.read(read, num); err != nil {
		return nil, err
	}
	syms, err := decodeKallsyms(tab.names, tab.tokens, tab.tokIdx, tab.offsets, num, base, bo)
	if err != nil {
		return nil, err
	}
	return New(syms), nil
}

// kallsymsAt holds the VMCOREINFO addresses of the kallsyms tables.
type kallsymsAt struct {
	numSyms, names, tokenTable, tokenIndex, offsets, relativeBase uint64
}

func kallsymsAddrs(info map[string]string) (kallsymsAt, error) {
	var at kallsymsAt
	for _, f := range []struct {
		name string
		dst  *uint64
	}{
		{"kallsyms_num_syms", &at.numSyms}, {"kallsyms_names", &at.names}, {"kallsyms_token_table", &at.tokenTable},
		{"kallsyms_token_index", &at.tokenIndex}, {"kallsyms_offsets", &at.offsets}, {"kallsyms_relative_base", &at.relativeBase},
	} {
		v, ok := info["SYMBOL("+f.name+")"]
		if !ok {
			return at, fmt.Errorf("%w: SYMBOL(%s) missing", ErrNoKallsyms, f.name)
		}
		a, err := strconv.ParseUint(v, 16, 64)
		if err != nil {
			return at, fmt.Errorf("VMCOREINFO SYMBOL(%s)=%q: %w", f.name, v, err)
		}
		*f.dst = a
	}
	return at, nil
}

type kallsymsTables struct{ names, tokens, tokIdx, offsets []byte }

// read fetches the tables. Their lengths are not in VMCOREINFO; 6.1's
// scripts/kallsyms.c emits offsets, relative_base, num_syms, names,
// markers, token_table, token_index in that order, which bounds names and
// the token table.
func (at kallsymsAt) read(read func(uint64, int) ([]byte, error), num int) (kallsymsTables, error) {
	var t kallsymsTables
	var err error
	if t.offsets, err = read(at.offsets, 4*num); err != nil {
		return t, err
	}
	if t.tokIdx, err = read(at.tokenIndex, 2*256); err != nil {
		return t, err
	}
	tokLen := 1 << 14
	if at.tokenIndex > at.tokenTable {
		tokLen = int(min(at.tokenIndex-at.tokenTable, 1<<16))
	}
	if t.tokens, err = read(at.tokenTable, tokLen); err != nil {
		return t, err
	}
	namesLen := num * 32
	if at.tokenTable > at.names {
		namesLen = int(min(at.tokenTable-at.names, 64<<20))
	}
	t.names, err = read(at.names, namesLen)
	return t, err
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
		s := Symbol{Name: string(name[1:]), Addr: base + uint64(bo.Uint32(offsets[4*i:])), Global: typ >= 'A' && typ <= 'Z', Class: typ}
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
