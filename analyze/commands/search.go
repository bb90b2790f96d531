package commands

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/kdumpkit/kdumpkit/analyze/kernel"
)

// maxMatches bounds search's answers; past it search says it stopped.
const maxMatches = 10000

// search is crash's search: "search [-s start] [-e end | -l length] [-p]
// [-t] [-w | -h | -c] [-m mask] value ...". Without a range it searches
// the kernel's linear map (all RAM the dump holds); -t the tasks' kernel
// stacks; -p physical memory. Values are hexadecimal words (-w 32-bit, -h
// 16-bit), or strings with -c. Each match prints "ADDRESS: VALUE".
func (s *Session) search(w io.Writer, args []string) error {
	usage := fmt.Errorf("search [-s start] [-e end | -l length] [-p] [-t] [-w | -h | -c] [-m mask] value...: %w", ErrUsage)
	o := searchOpts{size: s.Kernel.PtrSize, mask: ^uint64(0)}
	var values []string
	for i := 1; i < len(args); i++ {
		a := args[i]
		next := func() (string, error) {
			if i+1 >= len(args) {
				return "", usage
			}
			i++
			return args[i], nil
		}
		var err error
		var v string
		switch a {
		case "-s", "-e", "-l", "-m":
			if v, err = next(); err != nil {
				return err
			}
			// -l is a byte count (decimal unless 0x); the others are
			// addresses or masks, hexadecimal or symbols, as crash reads them.
			var n uint64
			var perr error
			if a == "-l" {
				n, perr = strconv.ParseUint(v, 0, 64)
			} else {
				n, perr = s.parseAddr(v)
			}
			if perr != nil {
				return fmt.Errorf("search %s %s: %w", a, v, perr)
			}
			switch a {
			case "-s":
				o.start, o.hasStart = n, true
			case "-e":
				o.end = n
			case "-l":
				o.length = n
			case "-m":
				o.mask = ^n
			}
		case "-p":
			o.physical = true
		case "-t":
			o.stacks = true
		case "-w":
			o.size = 4
		case "-h":
			o.size = 2
		case "-c":
			o.chars = true
		case "-k":
		default:
			if strings.HasPrefix(a, "-") && len(values) == 0 {
				return fmt.Errorf("search: option %s not supported: %w", a, ErrUsage)
			}
			values = append(values, a)
		}
	}
	if len(values) == 0 {
		return usage
	}
	if o.chars {
		// The command line was split at blanks: a quoted string is one.
		values = []string{strings.Trim(strings.Join(values, " "), `"'`)}
	}
	var pats [][]byte
	for _, v := range values {
		p, err := s.searchPattern(v, o)
		if err != nil {
			return fmt.Errorf("search: %w", err)
		}
		pats = append(pats, p)
	}
	ranges, err := s.searchRanges(o)
	if err != nil {
		return fmt.Errorf("search: %w", err)
	}
	n := 0
	for _, r := range ranges {
		if n, err = s.searchRange(w, r, pats, o, n); err != nil {
			return err
		}
		if n >= maxMatches {
			fmt.Fprintf(w, "(search stopped after %d matches)\n", maxMatches)
			return nil
		}
	}
	return nil
}

type searchOpts struct {
	start, end, length uint64
	hasStart           bool
	mask               uint64
	size               int
	physical, stacks   bool
	chars              bool
}

// searchPattern is a value's bytes in memory: the string, or the number
// in the dump's byte order and the unit's width.
func (s *Session) searchPattern(v string, o searchOpts) ([]byte, error) {
	if o.chars {
		return []byte(strings.Trim(v, `"`)), nil
	}
	n, err := strconv.ParseUint(strings.TrimPrefix(v, "0x"), 16, 64)
	if err != nil {
		if n, err = s.parseAddr(v); err != nil {
			return nil, fmt.Errorf("%q is neither a hexadecimal value nor a symbol", v)
		}
	}
	b := make([]byte, 8)
	s.Kernel.Order.PutUint64(b, n)
	if s.Kernel.Order.String() == "BigEndian" {
		return b[8-o.size:], nil
	}
	return b[:o.size], nil
}

// searchRange is one stretch to scan: virtual addresses (or physical
// with -p) and the function that reads it.
type searchRange struct {
	start, end uint64
	read       func(addr uint64, buf []byte) error
}

func (s *Session) searchRanges(o searchOpts) ([]searchRange, error) {
	virt := func(a uint64, b []byte) error { return s.Kernel.Mem.ReadVirt(a, b) }
	phys := func(a uint64, b []byte) error { return s.Kernel.ReadPhys(a, b) }
	switch {
	case o.stacks:
		tasks, _ := s.Kernel.Tasks()
		size := s.Kernel.StackSize()
		var out []searchRange
		for _, t := range tasks {
			if t.Stack != 0 && size > 0 {
				out = append(out, searchRange{t.Stack, t.Stack + size, virt})
			}
		}
		return out, nil
	case o.hasStart:
		end := o.end
		if o.length > 0 {
			end = o.start + o.length
		}
		if end <= o.start {
			return nil, fmt.Errorf("-s %#x needs an end (-e) or a length (-l) past it", o.start)
		}
		read := virt
		if o.physical {
			read = phys
		}
		return []searchRange{{o.start, end, read}}, nil
	}
	var out []searchRange
	for _, r := range s.Kernel.KernelRanges() {
		if o.physical {
			out = append(out, searchRange{r.Phys, r.Phys + r.Len, phys})
			continue
		}
		// Read the RAM physically (no page walk) and report the
		// linear-map address.
		r := r
		out = append(out, searchRange{r.Virt, r.Virt + r.Len, func(a uint64, b []byte) error {
			return s.Kernel.ReadPhys(r.Phys+(a-r.Virt), b)
		}})
	}
	if len(out) == 0 {
		return nil, kernel.ErrNoTranslation
	}
	return out, nil
}

// searchRange scans one range in 1 MiB chunks (overlapping by a
// pattern's length), skipping what cannot be read.
func (s *Session) searchRange(w io.Writer, r searchRange, pats [][]byte, o searchOpts, n int) (int, error) {
	const chunk = 1 << 20
	longest := 0
	for _, p := range pats {
		longest = max(longest, len(p))
	}
	step := uint64(o.size)
	if o.chars {
		step = 1
	}
	buf := make([]byte, chunk+longest)
	for base := r.start; base < r.end; base += chunk {
		m := min(uint64(len(buf)), r.end-base)
		if err := r.read(base, buf[:m]); err != nil {
			// A chunk crossing a hole: try it page by page.
			m = s.readPages(r, base, buf[:m])
		}
		data := buf[:m]
		limit := min(uint64(chunk), m) // matches starting in the overlap belong to the next chunk
		for _, p := range pats {
			for _, off := range findAll(data, p, limit, step, o, s) {
				addr := base + off
				// crash's shapes: 56 bytes of context for a string, NULs
				// and all as '.'; a value with a blank after it.
				if o.chars {
					end := min(m, off+56)
					fmt.Fprintf(w, "%x: %s\n", addr, escapeASCII(data[off:end]))
				} else {
					fmt.Fprintf(w, "%x: %0*x \n", addr, 2*len(p), s.Kernel.Uint(data[off:off+uint64(len(p))], len(p)))
				}
				if n++; n >= maxMatches {
					return n, nil
				}
			}
		}
	}
	return n, nil
}

// findAll returns the offsets below limit where p occurs at a multiple
// of step: by bytes.Index when no mask applies (a scan of all RAM takes
// a second, not ten), unit by unit under a mask.
func findAll(data, p []byte, limit, step uint64, o searchOpts, s *Session) []uint64 {
	var out []uint64
	if o.chars || o.mask == ^uint64(0) {
		for from := uint64(0); from < limit; {
			i := bytes.Index(data[from:], p)
			if i < 0 {
				break
			}
			off := from + uint64(i)
			if off >= limit {
				break
			}
			if off%step == 0 {
				out = append(out, off)
			}
			from = off + 1
		}
		return out
	}
	for off := uint64(0); off < limit && off+uint64(len(p)) <= uint64(len(data)); off += step {
		if matches(data[off:], p, o, s) {
			out = append(out, off)
		}
	}
	return out
}

// matches compares a unit with the pattern under -m's mask.
func matches(data, p []byte, o searchOpts, s *Session) bool {
	if o.chars || o.mask == ^uint64(0) {
		return bytes.Equal(data[:len(p)], p)
	}
	return s.Kernel.Uint(data[:len(p)], len(p))&o.mask == s.Kernel.Uint(p, len(p))&o.mask
}

// readPages fills buf page by page, zeroing unreadable pages (a hole
// matches nothing but zero, which is not searched for across holes).
func (s *Session) readPages(r searchRange, base uint64, buf []byte) uint64 {
	page := s.Kernel.PageSize()
	for off := uint64(0); off < uint64(len(buf)); off += page {
		end := min(off+page, uint64(len(buf)))
		if err := r.read(base+off, buf[off:end]); err != nil {
			clear(buf[off:end])
		}
	}
	return uint64(len(buf))
}
