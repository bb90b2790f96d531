package commands

import (
	"debug/dwarf"
	"encoding/binary"
	"fmt"
	"io"
	"strings"

	"github.com/kdumpkit/kdumpkit/analyze/expr"
	"github.com/kdumpkit/kdumpkit/analyze/types"
)

// exprEnv is the dump as analyze/expr reads it.
type exprEnv struct{ s *Session }

// Variable finds a variable's DWARF type and its symbol's address; an
// array declared without a length (extern const char linux_banner[])
// takes its length from the symbol's size, as the definition gave it.
// A symbol without DWARF comes back with a nil type (its address).
func (e exprEnv) Variable(name string) (dwarf.Type, uint64, error) {
	sym, err := e.s.Kernel.Syms.Lookup(name)
	if err != nil {
		return nil, 0, fmt.Errorf("no symbol %q in the current context", name)
	}
	if e.s.Kernel.Types == nil {
		return nil, sym.Addr, nil
	}
	t, err := e.s.Kernel.Types.Variable(name)
	if err != nil {
		if f, ferr := e.s.Kernel.Types.Function(name); ferr == nil {
			return f, sym.Addr, nil
		}
		return nil, sym.Addr, nil
	}
	if at, ok := types.Strip(t).(*dwarf.ArrayType); ok && at.Count < 0 && sym.Size > 0 {
		if es := types.Strip(at.Type).Size(); es > 0 {
			full := *at
			full.Count = int64(sym.Size) / es
			full.ByteSize = full.Count * es
			t = &full
		}
	}
	return t, sym.Addr, nil
}

func (e exprEnv) PerCPU(name string, cpu int) (uint64, error) { return e.s.Kernel.PerCPU(name, cpu) }

func (e exprEnv) Type(name string) (dwarf.Type, error) {
	if e.s.Kernel.Types == nil {
		return nil, fmt.Errorf("type %q: no DWARF", name)
	}
	if dw, ok := cTypeNames[strings.Join(strings.Fields(name), " ")]; ok {
		name = dw
	}
	return e.s.Kernel.Types.Named(name)
}

// cTypeNames maps the C spellings of base types to the names gcc gives
// them in DWARF, as gdb accepts both.
var cTypeNames = map[string]string{
	"unsigned": "unsigned int", "signed": "int", "long": "long int", "unsigned long": "long unsigned int",
	"signed long": "long int", "long long": "long long int", "unsigned long long": "long long unsigned int",
	"short": "short int", "unsigned short": "short unsigned int", "signed char": "signed char",
	"unsigned long int": "long unsigned int", "long unsigned": "long unsigned int",
}

func (e exprEnv) Read(addr uint64, buf []byte) error { return e.s.Kernel.Mem.ReadVirt(addr, buf) }
func (e exprEnv) PtrSize() int                       { return e.s.Kernel.PtrSize }
func (e exprEnv) Order() binary.ByteOrder            { return e.s.Kernel.Order }

// eval evaluates an expression over the dump.
func (s *Session) evalExpr(text string) (expr.Value, error) {
	return expr.Eval(text, exprEnv{s})
}

// symbolAt names an address inside a symbol of the kernel image, as gdb
// annotates pointers ("init_task+1116"); "" for addresses outside any
// sized symbol (heap, stacks).
func (s *Session) symbolAt(addr uint64) string {
	sym, off, err := s.Kernel.Syms.At(addr)
	if err != nil || (off >= sym.Size && !(sym.Size == 0 && off == 0)) {
		return ""
	}
	if off == 0 {
		return sym.Name
	}
	return fmt.Sprintf("%s+%d", sym.Name, off)
}

// print is crash's p, px and pd: evaluate a C expression and print it as
// gdb does, "$N = value", with "name = " before it when the expression
// is a variable, and "per_cpu(name, cpu) = " for name:cpu.
func (s *Session) print(w io.Writer, args []string) error {
	radix := map[string]int{"p": 0, "px": 16, "pd": 10}[args[0]]
	text := strings.TrimSpace(strings.Join(args[1:], " "))
	if text == "" {
		return fmt.Errorf("%s EXPRESSION: %w", args[0], ErrUsage)
	}
	v, err := s.evalExpr(text)
	if err != nil {
		return fmt.Errorf("%s: %w", args[0], err)
	}
	val, err := s.formatValue(v, radix)
	if err != nil {
		return fmt.Errorf("%s %s: %w", args[0], text, err)
	}
	s.printCount++
	prefix := ""
	if name, cpu, ok := strings.Cut(text, ":"); ok && isIdent(name) && isDigits(cpu) {
		prefix = fmt.Sprintf("per_cpu(%s, %s) = ", name, cpu)
	} else if isIdent(text) {
		prefix = text + " = "
	}
	fmt.Fprintf(w, "%s$%d = %s\n", prefix, s.printCount, val)
	return nil
}

// formatValue prints a value as gdb's print does: objects through
// types.Format, top-level pointers with their type, chars with their
// character, plain numbers in the radix.
func (s *Session) formatValue(v expr.Value, radix int) (string, error) {
	opts := types.Options{Radix: radix, Symbol: s.symbolAt}
	if v.Type == nil {
		if radix == 16 {
			return fmt.Sprintf("%#x", v.Int&s.Kernel.Mask()), nil
		}
		return fmt.Sprintf("%d", int64(v.Int)), nil
	}
	env := exprEnv{s}
	switch t := types.Strip(v.Type).(type) {
	case *dwarf.PtrType:
		p, err := expr.Scalar(v, env)
		if err != nil {
			return "", err
		}
		b := make([]byte, 8)
		s.Kernel.Order.PutUint64(b, p)
		if s.Kernel.Order == binary.BigEndian {
			b = b[8-t.Size():]
		}
		return fmt.Sprintf("(%s) %s", types.Decl(v.Type, ""), types.Format(t, b[:t.Size()], s.Kernel.Order, opts)), nil
	case *dwarf.FuncType:
		return fmt.Sprintf("{%s} %#x <%s>", types.Decl(t, ""), v.Addr, s.symbolAt(v.Addr)), nil
	case *dwarf.CharType, *dwarf.UcharType:
		c, err := expr.Scalar(v, env)
		if err != nil {
			return "", err
		}
		if radix != 0 {
			break
		}
		return fmt.Sprintf("%d %s", int64(c), charLiteral(byte(c))), nil
	}
	data, err := expr.Bytes(v, env)
	if err != nil {
		return "", err
	}
	return types.Format(v.Type, data, s.Kernel.Order, opts), nil
}

// charLiteral spells a char as gdb does: 'w', '\n', '\000'.
func charLiteral(c byte) string {
	switch {
	case c == '\'' || c == '\\':
		return `'\` + string(c) + `'`
	case c >= 0x20 && c < 0x7f:
		return "'" + string(c) + "'"
	}
	if esc, ok := map[byte]string{'\n': `\n`, '\t': `\t`, '\r': `\r`, 7: `\a`, 8: `\b`, 12: `\f`, 11: `\v`, 27: `\033`}[c]; ok {
		return "'" + esc + "'"
	}
	return fmt.Sprintf(`'\%03o'`, c)
}

func isIdent(s string) bool {
	if s == "" || (s[0] >= '0' && s[0] <= '9') {
		return false
	}
	for _, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// scalar is an expression value as an integer (expr.Scalar).
func (s *Session) scalar(v expr.Value) (uint64, error) { return expr.Scalar(v, exprEnv{s}) }
