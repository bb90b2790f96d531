package commands

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// eval is crash's eval: a C expression's value in hexadecimal (with its
// size in KB, MB or GB when it is a whole number of them), decimal, octal
// and binary; -b lists the bits set.
func (s *Session) eval(w io.Writer, args []string) error {
	showBits := false
	rest := args[1:]
	for len(rest) > 0 && strings.HasPrefix(rest[0], "-") && len(rest[0]) > 1 && !isDigits(rest[0][1:]) {
		switch rest[0] {
		case "-b":
			showBits = true
		default:
			return fmt.Errorf("eval: option %s not supported (-b): %w", rest[0], ErrUsage)
		}
		rest = rest[1:]
	}
	text := strings.Join(rest, " ")
	if strings.TrimSpace(text) == "" {
		return fmt.Errorf("eval [-b] EXPRESSION: %w", ErrUsage)
	}
	v, err := s.evalExpr(text)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	n, err := s.scalar(v)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	n &= s.Kernel.Mask()
	width := 8 * s.Kernel.PtrSize
	signed := int64(n)
	if width < 64 && n>>(width-1)&1 == 1 {
		signed = int64(n) - 1<<width
	}
	fmt.Fprintf(w, "hexadecimal: %x  %s\n", n, sizeSuffix(n))
	dec := strconv.FormatUint(n, 10) + "  "
	if signed < 0 {
		dec += fmt.Sprintf("(%d)", signed)
	}
	fmt.Fprintf(w, "    decimal: %s\n", dec)
	fmt.Fprintf(w, "      octal: %o\n", n)
	fmt.Fprintf(w, "     binary: %0*b\n", width, n)
	if showBits {
		fmt.Fprint(w, "   bits set: ")
		for b := width - 1; b >= 0; b-- {
			if n&(1<<uint(b)) != 0 {
				fmt.Fprintf(w, "%d ", b)
			}
		}
		fmt.Fprintln(w)
	}
	return nil
}

// sizeSuffix is crash's "(1KB)"-style note for whole KB, MB and GB.
func sizeSuffix(n uint64) string {
	switch {
	case n == 0:
		return ""
	case n%(1<<30) == 0:
		return fmt.Sprintf("(%dGB)", n>>30)
	case n%(1<<20) == 0:
		return fmt.Sprintf("(%dMB)", n>>20)
	case n%(1<<10) == 0:
		return fmt.Sprintf("(%dKB)", n>>10)
	}
	return ""
}

// asciiNames are the control characters' names crash's ascii prints.
var asciiNames = [32]string{"NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "BEL", "BS", "HT", "LF", "VT", "FF", "CR", "SO", "SI",
	"DLE", "DC1", "DC2", "DC3", "DC4", "NAK", "SYN", "ETB", "CAN", "EM", "SUB", "ESC", "FS", "GS", "RS", "US"}

// ascii is crash's ascii: each hex value's bytes as characters, least
// significant first (the order they sit in a little-endian word);
// without an argument, the ASCII table.
func (s *Session) ascii(w io.Writer, args []string) error {
	if len(args) == 1 {
		for c := 0; c < 128; c++ {
			fmt.Fprintf(w, "%3d %02x %s\n", c, c, asciiChar(byte(c)))
		}
		return nil
	}
	for _, a := range args[1:] {
		v, err := strconv.ParseUint(strings.TrimPrefix(a, "0x"), 16, 64)
		if err != nil {
			return fmt.Errorf("ascii: %q is not a hexadecimal value: %w", a, ErrUsage)
		}
		fmt.Fprintf(w, "%016x: ", v)
		for i := 0; i < 8; i++ { // crash shows all eight bytes of the value it parsed
			fmt.Fprint(w, asciiChar(byte(v>>(8*uint(i)))))
		}
		fmt.Fprintln(w)
	}
	return nil
}

func asciiChar(c byte) string {
	switch {
	case c < 32:
		return "<" + asciiNames[c] + ">"
	case c == 0x7f:
		return "<DEL>"
	case c > 0x7f:
		return fmt.Sprintf("<%02x>", c)
	}
	return string(c)
}
