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
		return t.Common().Name
	}
}

// Layout prints a struct, union or enum definition the way gdb's ptype and
// crash's "struct NAME" do, anonymous members expanded in place, with
// "SIZE: n" last. With offsets set each member line starts "[off]".
func Layout(t dwarf.Type, offsets bool) string {
	var b strings.Builder
	writeLayout(&b, t, 0, 0, offsets)
	fmt.Fprintf(&b, "\nSIZE: %d\n", t.Size())
	return b.String()
}

func writeLayout(b *strings.Builder, t dwarf.Type, depth int, base int64, offsets bool) {
	ind := strings.Repeat("    ", depth)
	switch x := Strip(t).(type) {
	case *dwarf.StructType:
		fmt.Fprintf(b, "%s {\n", baseName(x))
		writeMembers(b, x, depth, base, offsets)
		fmt.Fprintf(b, "%s}", ind)
	case *dwarf.EnumType:
		fmt.Fprintf(b, "%s {\n", baseName(x))
		for i, v := range x.Val {
			sep := ","
			if i == len(x.Val)-1 {
				sep = ""
			}
			fmt.Fprintf(b, "%s    %s = %d%s\n", ind, v.Name, v.Val, sep)
		}
		fmt.Fprintf(b, "%s}", ind)
	default:
		b.WriteString(Decl(t, ""))
	}
}

// writeMembers prints the members of an anonymous struct or union inline.
func writeMembers(b *strings.Builder, st *dwarf.StructType, depth int, base int64, offsets bool) {
	ind := strings.Repeat("    ", depth)
	for _, f := range st.Field {
		if offsets {
			fmt.Fprintf(b, "  [%d] ", base+f.ByteOffset)
		}
		if inner, ok := f.Type.(*dwarf.StructType); ok && inner.StructName == "" {
			fmt.Fprintf(b, "%s    %s {\n", ind, inner.Kind)
			writeMembers(b, inner, depth+1, base+f.ByteOffset, offsets)
			fmt.Fprintf(b, "%s    }%s;\n", ind, prefixed(" ", f.Name))
			continue
		}
		bits := ""
		if f.BitSize > 0 {
			bits = fmt.Sprintf(" : %d", f.BitSize)
		}
		fmt.Fprintf(b, "%s    %s%s;\n", ind, Decl(f.Type, f.Name), bits)
	}
}

func prefixed(p, s string) string {
	if s == "" {
		return ""
	}
	return p + s
}
