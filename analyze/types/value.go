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
	var b strings.Builder
	p := printer{b: &b, bo: bo}
	p.value(t, data, 0)
	return b.String()
}

type printer struct {
	b  *strings.Builder
	bo binary.ByteOrder
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
		fmt.Fprintf(p.b, "%#x", p.uint(data, size))
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
		fmt.Fprintf(p.b, "%d", p.int(data, size))
	case *dwarf.UintType, *dwarf.UcharType:
		fmt.Fprintf(p.b, "%d", p.uint(data, size))
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
			fmt.Fprintf(p.b, "%d", bitfield(fdata, f, p.bo))
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
		if es == 1 {
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

// cString prints a char array as gdb does: the text up to the trailing
// NULs, then the NUL run as a repeat count.
func cString(b []byte) string {
	end := len(b)
	for end > 0 && b[end-1] == 0 {
		end--
	}
	q := strconv.Quote(string(b[:end]))
	switch pad := len(b) - end; {
	case pad == 0:
		return q
	case end == 0:
		return fmt.Sprintf("'\\000' <repeats %d times>", pad)
	case pad <= 8:
		return q[:len(q)-1] + strings.Repeat("\\000", pad) + `"`
	default:
		return fmt.Sprintf("%s, '\\000' <repeats %d times>", q, pad)
	}
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
