package commands

import (
	"debug/dwarf"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/kdumpkit/kdumpkit/analyze/types"
)

// maxStructCount bounds struct's count: a typo must not print a million
// pages.
const maxStructCount = 4096

// structArgs is a parsed struct/union command line.
type structArgs struct {
	kind    string   // "struct" or "union"
	name    string   // the type's tag
	members []string // member paths; none for the whole object
	offsets bool
	less    string // -l: a member path or byte count the address points at
	addr    string
	count   int
}

// structCmd is crash's struct and union: "struct name[.member[,member]]
// [-o] [-l offset] [address | symbol] [count]". Without an address it
// prints the layout (-o with offsets); with one, the contents, count
// objects in a row (the members asked for, or all), and with -o the
// layout with each member's address. "task_struct ADDR" (a word naming a
// struct) works as crash's shorthand.
func (s *Session) structCmd(w io.Writer, args []string) error {
	if err := s.needTypes(args[0]); err != nil {
		return err
	}
	a, err := parseStructArgs(args)
	if err != nil {
		return err
	}
	t, err := s.Kernel.Types.Named(a.kind + " " + a.name)
	if err != nil {
		if t, err = s.Kernel.Types.Named(a.name); err != nil {
			return fmt.Errorf("%s: %w", args[0], err)
		}
	}
	if a.addr == "" {
		if len(a.members) == 0 {
			fmt.Fprint(w, types.Layout(t, a.offsets))
			return nil
		}
		for _, m := range a.members {
			mem, err := types.MemberOf(t, m)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			fmt.Fprintf(w, "  [%d] %s;\n", mem.Offset, types.Decl(mem.Type, m[strings.LastIndex(m, ".")+1:]))
		}
		return nil
	}
	addr, err := s.parseAddr(a.addr)
	if err != nil {
		return fmt.Errorf("%s: %w", args[0], err)
	}
	if a.less != "" {
		off, err := s.memberOffset(t, a.less)
		if err != nil {
			return fmt.Errorf("%s -l %s: %w", args[0], a.less, err)
		}
		addr -= off
	}
	size := types.Strip(t).Size()
	if size <= 0 {
		return fmt.Errorf("%s %s has no size", a.kind, a.name)
	}
	for i := 0; i < a.count; i++ {
		at := addr + uint64(int64(i)*size)
		if a.offsets {
			fmt.Fprint(w, types.LayoutAt(t, at))
			continue
		}
		if err := s.structAt(w, t, a.members, at); err != nil {
			return err
		}
	}
	return nil
}

// memberOffset reads -l's argument: a byte count, or "type.member" /
// "member" naming the member the address points at.
func (s *Session) memberOffset(t dwarf.Type, arg string) (uint64, error) {
	if n, err := strconv.ParseUint(arg, 0, 64); err == nil {
		return n, nil
	}
	path := arg
	if _, after, ok := strings.Cut(arg, "."); ok && strings.HasPrefix(arg, t.Common().Name) || ok {
		if m, err := types.MemberOf(t, path); err == nil {
			return uint64(m.Offset), nil
		}
		path = after
	}
	m, err := types.MemberOf(t, path)
	if err != nil {
		return 0, err
	}
	return uint64(m.Offset), nil
}

func parseStructArgs(args []string) (structArgs, error) {
	a := structArgs{kind: args[0], count: 1}
	usage := fmt.Errorf("%s name[.member[,member]] [-o] [-l offset] [address | symbol] [count]: %w", args[0], ErrUsage)
	if a.kind != "struct" && a.kind != "union" {
		a.kind = "struct" // "task_struct ADDR": the word is the name
		args = append([]string{"struct"}, args...)
	}
	var rest []string
	for i := 1; i < len(args); i++ {
		switch x := args[i]; {
		case x == "-o":
			a.offsets = true
		case x == "-l" && i+1 < len(args):
			i++
			a.less = args[i]
		case strings.HasPrefix(x, "-") && len(x) > 1 && !isDigits(x[1:]):
			return a, fmt.Errorf("%s: option %s not supported: %w", args[0], x, ErrUsage)
		default:
			rest = append(rest, x)
		}
	}
	if len(rest) == 0 || len(rest) > 3 {
		return a, usage
	}
	name, members, _ := strings.Cut(rest[0], ".")
	a.name = name
	if members != "" {
		a.members = strings.Split(members, ",")
	}
	if len(rest) > 1 {
		a.addr = rest[1]
	}
	if len(rest) > 2 {
		n, err := strconv.Atoi(rest[2])
		if err != nil || n <= 0 || n > maxStructCount {
			return a, fmt.Errorf("%s: count %q is not 1 to %d: %w", args[0], rest[2], maxStructCount, ErrUsage)
		}
		a.count = n
	}
	return a, nil
}

// structAt prints the object of type t at addr whole, as "struct name
// {...}", or the members asked for, "  name = value," each.
func (s *Session) structAt(w io.Writer, t dwarf.Type, members []string, addr uint64) error {
	return s.structAtRadix(w, t, members, addr, 0)
}

// structAtRadix is structAt with integers in radix 16 or 10 (tree's and
// crash's -x and -d), 0 for print's default.
func (s *Session) structAtRadix(w io.Writer, t dwarf.Type, members []string, addr uint64, radix int) error {
	opts := types.Options{Symbol: s.symbolAt, Radix: radix}
	if len(members) == 0 {
		buf, err := s.readObject(t, addr)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%s %s\n", types.Decl(t, ""), types.Format(t, buf, s.Kernel.Order, opts))
		return nil
	}
	for _, m := range members {
		mem, err := types.MemberOf(t, m)
		if err != nil {
			return err
		}
		name := m[strings.LastIndex(m, ".")+1:]
		if mem.BitSize > 0 {
			v, err := s.Kernel.ReadUint(addr+uint64(mem.Offset), int(types.Strip(mem.Type).Size()))
			if err != nil {
				return fmt.Errorf("%s at %#x: %w", m, addr+uint64(mem.Offset), err)
			}
			v = v >> uint(mem.BitOffset) & (1<<uint(mem.BitSize) - 1)
			if radix == 16 {
				fmt.Fprintf(w, "  %s = %#x,\n", name, v)
				continue
			}
			fmt.Fprintf(w, "  %s = %d,\n", name, v)
			continue
		}
		buf, err := s.readObject(mem.Type, addr+uint64(mem.Offset))
		if err != nil {
			return fmt.Errorf("%s: %w", m, err)
		}
		val := types.Format(mem.Type, buf, s.Kernel.Order, opts)
		fmt.Fprintf(w, "  %s = %s,\n", name, strings.ReplaceAll(val, "\n", "\n  "))
	}
	return nil
}

// readObject reads a value of type t at addr, refusing sizes no object
// of the kernel has.
func (s *Session) readObject(t dwarf.Type, addr uint64) ([]byte, error) {
	size := types.Strip(t).Size()
	if size <= 0 || size > 1<<20 {
		return nil, fmt.Errorf("%s has no printable size (%d)", types.Decl(t, ""), size)
	}
	buf := make([]byte, size)
	if err := s.Kernel.Mem.ReadVirt(addr, buf); err != nil {
		return nil, fmt.Errorf("%s at %#x: %w", types.Decl(t, ""), addr, err)
	}
	return buf, nil
}

// whatis is crash's whatis: a variable's or function's declaration, or a
// type's definition ("whatis task_struct", "whatis struct list_head";
// -o with member offsets).
func (s *Session) whatis(w io.Writer, args []string) error {
	offsets := false
	var words []string
	for _, a := range args[1:] {
		if a == "-o" {
			offsets = true
			continue
		}
		words = append(words, a)
	}
	if len(words) == 0 {
		return fmt.Errorf("whatis [-o] symbol | type: %w", ErrUsage)
	}
	if err := s.needTypes("whatis"); err != nil {
		return err
	}
	name := strings.Join(words, " ")
	ty := s.Kernel.Types
	if len(words) == 1 {
		if v, _, err := (exprEnv{s}).Variable(name); err == nil && v != nil {
			fmt.Fprintf(w, "%s;\n", types.Decl(v, name))
			return nil
		}
	}
	t, err := ty.Named(name)
	if err != nil {
		if dw, ok := cTypeNames[name]; ok {
			t, err = ty.Named(dw)
		}
	}
	if err != nil {
		return fmt.Errorf("whatis: %w", err)
	}
	switch types.Strip(t).(type) {
	case *dwarf.StructType, *dwarf.EnumType:
		fmt.Fprint(w, types.Layout(t, offsets))
	default:
		fmt.Fprintf(w, "type = %s\n", types.Decl(types.Strip(t), ""))
	}
	return nil
}
