package commands

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/kdumpkit/kdumpkit/analyze/disasm"
	"github.com/kdumpkit/kdumpkit/analyze/lines"
)

// maxDis bounds how many instructions one dis prints.
const maxDis = 1 << 14

// dis is crash's dis: "dis [-l] [-r] address | symbol [count]". A
// function's name without a count disassembles the whole function; an
// address alone, one instruction; -r from the function's start up to and
// including the address; -l puts each source line's file and number
// before its instructions. Code is read from the dump.
func (s *Session) dis(w io.Writer, args []string) error {
	usage := fmt.Errorf("dis [-l] [-r] address | symbol [count]: %w", ErrUsage)
	var withLines, reverse bool
	var rest []string
	for _, a := range args[1:] {
		switch a {
		case "-l":
			withLines = true
		case "-r":
			reverse = true
		default:
			if strings.HasPrefix(a, "-") && len(rest) == 0 {
				return fmt.Errorf("dis: option %s not supported: %w", a, ErrUsage)
			}
			rest = append(rest, a)
		}
	}
	if len(rest) < 1 || len(rest) > 2 {
		return usage
	}
	if s.Decoder == nil {
		return fmt.Errorf("dis: %w: %s", disasm.ErrArch, s.Machine)
	}
	start, err := s.codeAddr(rest[0])
	if err != nil {
		return fmt.Errorf("dis: %w", err)
	}
	count, end := 1, uint64(0)
	sym, off, symErr := s.Kernel.Syms.At(start)
	switch {
	case reverse:
		if symErr != nil {
			return fmt.Errorf("dis -r: %#x is in no function: %w", start, symErr)
		}
		start, end, count = sym.Addr, start+1, maxDis
	case len(rest) == 2:
		if count, err = strconv.Atoi(rest[1]); err != nil || count <= 0 || count > maxDis {
			return fmt.Errorf("dis: count %q is not 1 to %d: %w", rest[1], maxDis, ErrUsage)
		}
	case symErr == nil && off == 0 && sym.Size > 0 && !isHexAddr(rest[0]):
		end, count = sym.Addr+sym.Size, maxDis
	}
	return s.disassemble(w, start, end, count, withLines)
}

// isHexAddr reports whether an argument is a number rather than a name.
func isHexAddr(a string) bool {
	_, err := strconv.ParseUint(strings.TrimPrefix(a, "0x"), 16, 64)
	return err == nil
}

// codeAddr reads dis's address: hex, a symbol, or an expression.
func (s *Session) codeAddr(arg string) (uint64, error) {
	if a, err := s.parseAddr(arg); err == nil {
		return a, nil
	}
	v, err := s.evalExpr(arg)
	if err != nil {
		return 0, err
	}
	return s.scalar(v)
}

// disassemble prints count instructions from start, stopping before end
// (when not 0).
func (s *Session) disassemble(w io.Writer, start, end uint64, count int, withLines bool) error {
	pc := start
	var last lines.Line
	for i := 0; i < count && (end == 0 || pc < end); i++ {
		code, err := s.readCode(pc)
		if err != nil {
			return fmt.Errorf("dis: %w", err)
		}
		n := len(code)
		in, err := s.Decoder.Decode(code[:n], pc)
		if err != nil {
			return fmt.Errorf("dis: %w", err)
		}
		if withLines && s.Lines != nil {
			if l, err := s.Lines.At(pc); err == nil && l != last {
				fmt.Fprintln(w, l)
				last = l
			}
		}
		ops := in.Operands
		if in.Target != 0 {
			if name := s.codeSymbol(in.Target); name != "" {
				ops += " <" + name + ">"
			}
		}
		fmt.Fprintf(w, "0x%x <%s>:\t%s", pc, s.codeSymbol(pc), in.Mnemonic)
		if ops != "" {
			fmt.Fprintf(w, "\t%s", ops)
		}
		fmt.Fprintln(w)
		pc += uint64(in.Len)
	}
	return nil
}

// readCode reads up to the decoder's longest instruction at pc, fewer
// bytes when the mapping ends sooner (an x86 instruction at a page
// before an unmapped one).
func (s *Session) readCode(pc uint64) ([]byte, error) {
	code := make([]byte, s.Decoder.MaxLen())
	var err error
	for n := len(code); n > 0; n-- {
		if err = s.Kernel.Mem.ReadVirt(pc, code[:n]); err == nil {
			return code[:n], nil
		}
	}
	return nil, fmt.Errorf("reading code at %#x: %w", pc, err)
}

// codeSymbol names a code address "sym+off" (decimal), as gdb does.
func (s *Session) codeSymbol(addr uint64) string {
	sym, off, err := s.Kernel.Syms.At(addr)
	if err != nil {
		return ""
	}
	if off == 0 {
		return sym.Name
	}
	return fmt.Sprintf("%s+%d", sym.Name, off)
}
