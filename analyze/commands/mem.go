package commands

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// maxRead bounds rd's count times its width: a typo must not read a
// gigabyte.
const maxRead = 1 << 24

// rd is crash's rd: memory as words of -8/-16/-32/-64 bits (the kernel's
// word by default) with their ASCII; -s names values that fall in a
// symbol (-S too), -x leaves the ASCII out, -a prints the memory as a
// string up to its NUL, -p reads a physical address.
func (s *Session) rd(w io.Writer, args []string) error {
	size := s.Kernel.PtrSize
	var symbolic, noASCII, asString, physical bool
	var rest []string
	for _, a := range args[1:] {
		switch a {
		case "-8", "-16", "-32", "-64":
			n, _ := strconv.Atoi(a[1:])
			size = n / 8
		case "-s", "-S":
			symbolic = true
		case "-x":
			noASCII = true
		case "-a":
			asString = true
		case "-p":
			physical = true
		default:
			if strings.HasPrefix(a, "-") && len(rest) == 0 {
				return fmt.Errorf("rd [-8|-16|-32|-64] [-s|-S] [-x] [-a] [-p] ADDRESS [COUNT]: option %s not supported: %w", a, ErrUsage)
			}
			rest = append(rest, a)
		}
	}
	if len(rest) < 1 || len(rest) > 2 {
		return fmt.Errorf("rd [-8|-16|-32|-64] [-s|-S] [-x] [-a] [-p] ADDRESS [COUNT]: %w", ErrUsage)
	}
	addr, err := s.parseAddr(rest[0])
	if err != nil {
		return fmt.Errorf("rd: %w", err)
	}
	count := 1
	if asString {
		count = 4096
	}
	if len(rest) == 2 {
		if count, err = strconv.Atoi(rest[1]); err != nil || count <= 0 || count*size > maxRead {
			return fmt.Errorf("rd: bad count %q (1 to %d units of %d bytes): %w", rest[1], maxRead/size, size, ErrUsage)
		}
	}
	read := func(a uint64, buf []byte) error { return s.Kernel.Mem.ReadVirt(a, buf) }
	if physical {
		read = func(a uint64, buf []byte) error { return s.Kernel.ReadPhys(a, buf) }
	}
	if asString {
		return s.rdString(w, addr, count, read)
	}
	buf := make([]byte, count*size)
	if err := read(addr, buf); err != nil {
		return fmt.Errorf("rd: %w", err)
	}
	const perLine = 16
	per := perLine / size
	for i := 0; i < count; i += per {
		line := buf[i*size : min((i+per)*size, len(buf))]
		fmt.Fprintf(w, "%0*x:  ", 2*s.Kernel.PtrSize, addr+uint64(i*size))
		for j := 0; j < len(line); j += size {
			v := s.Kernel.Uint(line[j:j+size], size)
			if j > 0 {
				fmt.Fprint(w, " ")
			}
			if name := s.symbolAt(v); symbolic && name != "" {
				fmt.Fprint(w, name)
			} else {
				fmt.Fprintf(w, "%0*x", 2*size, v)
			}
		}
		if symbolic || noASCII {
			fmt.Fprintln(w, " ")
			continue
		}
		// Pad a short last line so its ASCII lines up with the others'.
		fmt.Fprint(w, strings.Repeat(" ", (per-len(line)/size)*(2*size+1)))
		fmt.Fprint(w, "   ")
		for _, c := range line {
			if c < 0x20 || c > 0x7e {
				c = '.'
			}
			fmt.Fprintf(w, "%c", c)
		}
		fmt.Fprintln(w)
	}
	return nil
}

// rdString is rd -a: the bytes up to the first NUL (or count), 60 a line.
func (s *Session) rdString(w io.Writer, addr uint64, count int, read func(uint64, []byte) error) error {
	var text []byte
	page := make([]byte, 256)
	for len(text) < count {
		n := min(len(page), count-len(text))
		if err := read(addr+uint64(len(text)), page[:n]); err != nil {
			if len(text) == 0 {
				return fmt.Errorf("rd: %w", err)
			}
			break
		}
		if i := strings.IndexByte(string(page[:n]), 0); i >= 0 {
			text = append(text, page[:i]...)
			break
		}
		text = append(text, page[:n]...)
	}
	for i := 0; i < len(text); i += 60 {
		fmt.Fprintf(w, "%0*x:  %s\n", 2*s.Kernel.PtrSize, addr+uint64(i), escapeASCII(text[i:min(i+60, len(text))]))
	}
	return nil
}

// escapeASCII prints a dump's bytes with control characters as '.' (rd
// -a must not send the terminal escape sequences from the dump).
func escapeASCII(b []byte) string {
	out := make([]byte, len(b))
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			c = '.'
		}
		out[i] = c
	}
	return string(out)
}

// vtop is crash's vtop: where a kernel virtual address is in physical
// memory, by the dump's own page tables (the linear map, or a walk of
// swapper_pg_dir for vmalloc and stacks).
func (s *Session) vtop(w io.Writer, args []string) error {
	if len(args) < 2 {
		return fmt.Errorf("vtop ADDRESS...: %w", ErrUsage)
	}
	for i, a := range args[1:] {
		va, err := s.parseAddr(a)
		if err != nil {
			return fmt.Errorf("vtop: %w", err)
		}
		pa, err := s.Kernel.VirtToPhys(va)
		if err != nil {
			return fmt.Errorf("vtop %#x: %w", va, err)
		}
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "VIRTUAL   PHYSICAL\n%-8x  %x\n", va, pa)
	}
	return nil
}

// ptov is crash's ptov: the linear-map address of a physical one.
func (s *Session) ptov(w io.Writer, args []string) error {
	if len(args) < 2 {
		return fmt.Errorf("ptov PHYSICAL...: %w", ErrUsage)
	}
	fmt.Fprintln(w, "VIRTUAL   PHYSICAL")
	for _, a := range args[1:] {
		pa, err := strconv.ParseUint(strings.TrimPrefix(a, "0x"), 16, 64)
		if err != nil {
			return fmt.Errorf("ptov: %q is not a hexadecimal address: %w", a, ErrUsage)
		}
		va, err := s.Kernel.PhysToVirt(pa)
		if err != nil {
			return fmt.Errorf("ptov: %w", err)
		}
		fmt.Fprintf(w, "%-8x  %x\n", va, pa)
	}
	return nil
}

// btop is crash's btop: an address's page frame number (hex in, hex out).
func (s *Session) btop(w io.Writer, args []string) error {
	return s.pageConv(w, args, "btop ADDRESS...", 16, func(v, shift uint64) uint64 { return v >> shift })
}

// ptob is crash's ptob: a page frame number's address. As crash's, the
// number is decimal unless it starts with 0x.
func (s *Session) ptob(w io.Writer, args []string) error {
	return s.pageConv(w, args, "ptob PFN...", 0, func(v, shift uint64) uint64 { return v << shift })
}

func (s *Session) pageConv(w io.Writer, args []string, usage string, base int, conv func(v, shift uint64) uint64) error {
	if len(args) < 2 {
		return fmt.Errorf("%s: %w", usage, ErrUsage)
	}
	shift := uint64(0)
	for p := s.Kernel.PageSize(); p > 1; p >>= 1 {
		shift++
	}
	for _, a := range args[1:] {
		text := a
		if base == 16 {
			text = strings.TrimPrefix(a, "0x")
		}
		v, err := strconv.ParseUint(text, base, 64)
		if err != nil {
			return fmt.Errorf("%s: bad number %q: %w", args[0], a, ErrUsage)
		}
		fmt.Fprintf(w, "%x: %x\n", v, conv(v, shift)&s.Kernel.Mask())
	}
	return nil
}
