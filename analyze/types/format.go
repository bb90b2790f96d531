package types

import (
	"debug/dwarf"
	"fmt"
	"strings"
)

// typeName is the C spelling of a type without a declarator name.
func typeName(t dwarf.Type) string { return Decl(t, "") }

// Decl spells a C declaration of name with type t, e.g. Decl(ptr to struct
// list_head, "next") = "struct list_head *next".
func Decl(t dwarf.Type, name string) string {
	for i := 0; i < 64; i++ {
		switch x := t.(type) {
		case *dwarf.PtrType:
			name = "*" + name
			t = x.Type
			if t == nil {
				return strings.TrimSpace("void " + name)
			}
			continue
		case *dwarf.ArrayType:
			if strings.HasPrefix(name, "*") {
				name = "(" + name + ")"
			}
			if x.Count < 0 {
				name += "[]"
			} else {
				name += fmt.Sprintf("[%d]", x.Count)
			}
			t = x.Type
			continue
		case *dwarf.FuncType:
			if strings.HasPrefix(name, "*") {
				name = "(" + name + ")"
			}
			params := make([]string, len(x.ParamType))
			for i, p := range x.ParamType {
				params[i] = Decl(p, "")
			}
			if len(params) == 0 {
				params = []string{"void"}
			}
			name += "(" + strings.Join(params, ", ") + ")"
			t = x.ReturnType
			if t == nil {
				t = &dwarf.VoidType{}
			}
			continue
		case *dwarf.QualType:
			return strings.TrimSpace(x.Qual + " " + Decl(x.Type, name))
		}
		break
	}
	return strings.TrimSpace(baseName(t) + " " + name)
}

func baseName(t dwarf.Type) string {
	switch x := t.(type) {
	case nil:
		return "void"
	case *dwarf.StructType:
		if x.StructName == "" {
			return x.Kind + " {...}"
		}
		return x.Kind + " " + x.StructName
	case *dwarf.EnumType:
		if x.EnumName == "" {
			return "enum {...}"
		}
		return "enum " + x.EnumName
	case *dwarf.TypedefType:
		return x.Name
	case *dwarf.VoidType:
		return "void"
	case *dwarf.DotDotDotType:
		return "..."
	default:
		if n, ok := gdbNames[t.Common().Name]; ok {
			return n
		}
		return t.Common().Name
	}
}

// gdbNames are the spellings gdb (and so crash) prints for gcc's DWARF
// base type names.
var gdbNames = map[string]string{
	"long int": "long", "long unsigned int": "unsigned long", "short int": "short",
	"short unsigned int": "unsigned short", "long long int": "long long",
	"long long unsigned int": "unsigned long long",
}

// Layout prints a struct, union or enum definition the way gdb's ptype and
// crash's "struct NAME" do, anonymous members expanded in place, with
// "SIZE: n" last. With offsets set each member line starts with its
// "[offset]", right-aligned in a column as wide as the largest offset
// needs plus two, as crash's -o prints it.
func Layout(t dwarf.Type, offsets bool) string {
	var b strings.Builder
	l := layout{b: &b}
	if offsets {
		l.width = len(fmt.Sprintf("[%d]", maxOffset(Strip(t), 0, 0))) + 2
	}
	l.write(t)
	fmt.Fprintf(&b, "\nSIZE: %d\n", t.Size())
	return b.String()
}

// maxOffset is the largest member offset inside st, anonymous members
// included.
func maxOffset(t dwarf.Type, base int64, depth int) int64 {
	st, ok := t.(*dwarf.StructType)
	if !ok || depth > 16 {
		return 0
	}
	m := int64(0)
	for _, f := range st.Field {
		m = max(m, base+f.ByteOffset)
		if inner, ok := f.Type.(*dwarf.StructType); ok && inner.StructName == "" {
			m = max(m, maxOffset(inner, base+f.ByteOffset, depth+1))
		}
	}
	return m
}

// LayoutAt is Layout with each member's address at addr instead of its
// offset, as crash's "struct -o NAME ADDRESS" prints it.
func LayoutAt(t dwarf.Type, addr uint64) string {
	var b strings.Builder
	l := layout{b: &b, at: addr, absolute: true}
	l.width = len(fmt.Sprintf("[%x]", addr+uint64(maxOffset(Strip(t), 0, 0)))) + 2
	l.write(t)
	fmt.Fprintf(&b, "\nSIZE: %d\n", t.Size())
	return b.String()
}

type layout struct {
	b        *strings.Builder
	width    int // the offset column's width; 0 prints no offsets
	at       uint64
	absolute bool // the column holds addresses (at + offset) in hex
}

func (l layout) write(t dwarf.Type) {
	switch x := Strip(t).(type) {
	case *dwarf.StructType:
		fmt.Fprintf(l.b, "%s {\n", baseName(x))
		l.members(x, 0, 0)
		l.b.WriteString("}")
	case *dwarf.EnumType:
		fmt.Fprintf(l.b, "%s {\n", baseName(x))
		for i, v := range x.Val {
			sep := ","
			if i == len(x.Val)-1 {
				sep = ""
			}
			fmt.Fprintf(l.b, "    %s = %d%s\n", v.Name, v.Val, sep)
		}
		l.b.WriteString("}")
	default:
		l.b.WriteString(Decl(t, ""))
	}
}

// prefix starts a member line: its offset column (or none) and the
// indentation of its depth.
func (l layout) prefix(off int64, show bool, depth int) string {
	ind := strings.Repeat("    ", depth)
	if l.width == 0 {
		return "    " + ind
	}
	col := ""
	switch {
	case show && l.absolute:
		col = fmt.Sprintf("[%x]", l.at+uint64(off))
	case show:
		col = fmt.Sprintf("[%d]", off)
	}
	return fmt.Sprintf("%*s ", l.width, col) + ind
}

// members prints st's members; anonymous structs and unions inline.
func (l layout) members(st *dwarf.StructType, depth int, base int64) {
	for _, f := range st.Field {
		if inner, ok := f.Type.(*dwarf.StructType); ok && inner.StructName == "" {
			fmt.Fprintf(l.b, "%s%s {\n", l.prefix(0, false, depth), inner.Kind)
			l.members(inner, depth+1, base+f.ByteOffset)
			fmt.Fprintf(l.b, "%s}%s;\n", l.prefix(0, false, depth), prefixed(" ", f.Name))
			continue
		}
		bits := ""
		if f.BitSize > 0 {
			bits = fmt.Sprintf(" : %d", f.BitSize)
		}
		fmt.Fprintf(l.b, "%s%s%s;\n", l.prefix(base+f.ByteOffset, true, depth), Decl(f.Type, f.Name), bits)
	}
}

func prefixed(p, s string) string {
	if s == "" {
		return ""
	}
	return p + s
}
