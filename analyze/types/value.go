package types

import (
	"debug/dwarf"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// maxArray caps how many array elements are printed, as crash's print_max.
const maxArray = 256

// FormatValue prints the bytes of a value of type t the way gdb's print
// (and so crash's "struct NAME ADDR") shows it: members as "name = value,"
// indented two spaces per level, pointers in hex, char arrays as strings.
// data shorter than the type prints what it covers and marks the rest.
func FormatValue(t dwarf.Type, data []byte, bo binary.ByteOrder) string {
	return Format(t, data, bo, Options{})
}

// Options change how Format prints, as gdb's print formats do.
type Options struct {
	// Radix is 16 for gdb's p/x (crash's px: integers in hex), 10 for
	// p/d (pd: pointers in decimal too); 0 is print's default.
	Radix int
	// Symbol names a pointer's target, "init_task+1116", as gdb adds
	// "<init_task+1116>" after a pointer into a symbol; nil or "" adds
	// nothing.
	Symbol func(addr uint64) string
}

// Format is FormatValue with print options.
func Format(t dwarf.Type, data []byte, bo binary.ByteOrder, o Options) string {
	var b strings.Builder
	p := printer{b: &b, bo: bo, o: o}
	p.value(t, data, 0)
	return b.String()
}

type printer struct {
	b  *strings.Builder
	bo binary.ByteOrder
	o  Options
}

// integer prints an integer in the radix asked for.
func (p *printer) integer(v uint64, signed int64, isSigned bool, size int64) {
	switch {
	case p.o.Radix == 16:
		if size > 0 && size < 8 {
			v &= 1<<(8*uint(size)) - 1
		}
		fmt.Fprintf(p.b, "%#x", v)
	case isSigned:
		fmt.Fprintf(p.b, "%d", signed)
	default:
		fmt.Fprintf(p.b, "%d", v)
	}
}

// pointer prints a pointer value, with its symbol when Options.Symbol
// names one.
func (p *printer) pointer(v uint64) {
	if p.o.Radix == 10 {
		fmt.Fprintf(p.b, "%d", v)
		return
	}
	fmt.Fprintf(p.b, "%#x", v)
	if p.o.Symbol != nil && v != 0 {
		if name := p.o.Symbol(v); name != "" {
			fmt.Fprintf(p.b, " <%s>", name)
		}
	}
}

func (p *printer) value(t dwarf.Type, data []byte, depth int) {
	t = Strip(t)
	size := t.Size()
	if size > 0 && int64(len(data)) < size {
		fmt.Fprintf(p.b, "<unavailable: %d of %d bytes>", len(data), size)
		return
	}
	switch x := t.(type) {
	case *dwarf.StructType:
		p.structValue(x, data, depth)
	case *dwarf.ArrayType:
		p.arrayValue(x, data, depth)
	case *dwarf.PtrType:
		p.pointer(p.uint(data, size))
	case *dwarf.EnumType:
		v := p.int(data, size)
		for _, e := range x.Val {
			if e.Val == v {
				p.b.WriteString(e.Name)
				return
			}
		}
		fmt.Fprintf(p.b, "%d", v)
	case *dwarf.BoolType:
		fmt.Fprintf(p.b, "%t", p.uint(data, size) != 0)
	case *dwarf.IntType, *dwarf.CharType:
		p.integer(p.uint(data, size), p.int(data, size), true, size)
	case *dwarf.UintType, *dwarf.UcharType:
		p.integer(p.uint(data, size), 0, false, size)
	case *dwarf.FuncType:
		p.b.WriteString("{...}")
	default:
		fmt.Fprintf(p.b, "0x%x", data[:min(len(data), max(int(size), 0))])
	}
}

func (p *printer) structValue(x *dwarf.StructType, data []byte, depth int) {
	ind := strings.Repeat("  ", depth+1)
	p.b.WriteString("{\n")
	for i, f := range x.Field {
		p.b.WriteString(ind)
		if f.Name != "" {
			p.b.WriteString(f.Name + " = ")
		}
		fdata := data[min(int(f.ByteOffset), len(data)):]
		if f.BitSize > 0 {
			p.integer(bitfield(fdata, f, p.bo), int64(bitfield(fdata, f, p.bo)), false, 8)
		} else {
			p.value(f.Type, fdata, depth+1)
		}
		if i < len(x.Field)-1 {
			p.b.WriteString(",")
		}
		p.b.WriteString("\n")
	}
	p.b.WriteString(strings.Repeat("  ", depth) + "}")
}

func (p *printer) arrayValue(x *dwarf.ArrayType, data []byte, depth int) {
	elem := Strip(x.Type)
	es := elem.Size()
	n := x.Count
	if es <= 0 || n < 0 {
		p.b.WriteString("{...}")
		return
	}
	switch elem.(type) {
	case *dwarf.CharType, *dwarf.UcharType:
		if es == 1 && p.o.Radix == 0 {
			p.b.WriteString(cString(data[:n]))
			return
		}
	}
	p.b.WriteString("{")
	for i := int64(0); i < n && i < maxArray; i++ {
		if i > 0 {
			p.b.WriteString(", ")
		}
		p.value(elem, data[i*es:], depth)
	}
	if n > maxArray {
		p.b.WriteString("...")
	}
	p.b.WriteString("}")
}

// cString prints a char array as crash's gdb does: the bytes, trailing
// NULs as \000, less the last NUL (gdb takes a final NUL for the
// string's own terminator). crash sets "print repeats" unlimited, so a
// run of NULs is never folded into "<repeats N times>"; like its "print
// elements 256", a longer array is cut there and marked "...".
func cString(b []byte) string {
	if len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	cut := ""
	if len(b) > maxArray {
		b, cut = b[:maxArray], "..."
	}
	end := len(b)
	for end > 0 && b[end-1] == 0 {
		end--
	}
	q := strconv.Quote(string(b[:end]))
	return q[:len(q)-1] + strings.Repeat("\\000", len(b)-end) + `"` + cut
}

func (p *printer) uint(data []byte, size int64) uint64 {
	switch size {
	case 1:
		return uint64(data[0])
	case 2:
		return uint64(p.bo.Uint16(data))
	case 4:
		return uint64(p.bo.Uint32(data))
	case 8:
		return p.bo.Uint64(data)
	}
	return 0
}

func (p *printer) int(data []byte, size int64) int64 {
	v := p.uint(data, size)
	switch size {
	case 1:
		return int64(int8(v))
	case 2:
		return int64(int16(v))
	case 4:
		return int64(int32(v))
	}
	return int64(v)
}

func bitfield(data []byte, f *dwarf.StructField, bo binary.ByteOrder) uint64 {
	n := int(f.ByteSize)
	if n <= 0 || n > 8 || len(data) < n {
		return 0
	}
	var buf [8]byte
	copy(buf[:], data[:n])
	var v uint64
	if bo == binary.BigEndian {
		v = binary.BigEndian.Uint64(buf[:]) >> (64 - 8*n)
	} else {
		v = binary.LittleEndian.Uint64(buf[:])
	}
	return (v >> uint(bitOffset(f))) & (1<<uint(f.BitSize) - 1)
}

// Uint reads an unsigned integer of size bytes (1, 2, 4 or 8).
func Uint(data []byte, size int64, bo binary.ByteOrder) uint64 {
	p := printer{bo: bo}
	return p.uint(data, size)
}
