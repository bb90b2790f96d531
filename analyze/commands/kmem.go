package commands

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/kdumpkit/kdumpkit/analyze/escape"
	"github.com/kdumpkit/kdumpkit/analyze/kernel"
)

// kmem is crash's kmem: -i the memory accounting; -s/-S the slab
// caches (-S with each slab's objects); -v the vmalloc areas; -p the
// struct pages; -g page flags; -f the free lists; or ADDRESS: what an
// address is — a kernel symbol, a slab object, a vmalloc area, a
// task_struct or a task's kernel stack, and the struct page of its memory
// (-P: the address is physical).
func (s *Session) kmem(w io.Writer, args []string) error {
	usage := fmt.Errorf("kmem -i | -s|-S [cache|address|list] | -v [address] | -p [address] | -g [flags] | -f | [-P] address: %w", ErrUsage)
	if len(args) < 2 {
		return usage
	}
	opt, rest := args[1], args[2:]
	if len(rest) > 1 {
		return usage
	}
	arg := ""
	if len(rest) == 1 {
		arg = rest[0]
	}
	switch opt {
	case "-i":
		if arg != "" {
			return usage
		}
		return s.kmemInfo(w)
	case "-s", "-S":
		return s.kmemSlabs(w, arg, opt == "-S")
	case "-v":
		return s.kmemVmalloc(w, arg)
	case "-p":
		return s.kmemPages(w, arg)
	case "-g":
		return s.kmemFlags(w, arg)
	case "-f":
		if arg != "" {
			return usage
		}
		return s.kmemFree(w)
	case "-P":
		if arg == "" {
			return usage
		}
		addr, err := strconv.ParseUint(strings.TrimPrefix(arg, "0x"), 16, 64)
		if err != nil {
			return fmt.Errorf("kmem -P: invalid physical address %q", arg)
		}
		return s.kmemAddr(w, addr, true)
	}
	if strings.HasPrefix(opt, "-") || arg != "" {
		return usage
	}
	addr, err := s.parseAddr(opt)
	if err != nil {
		return fmt.Errorf("kmem: %w", err)
	}
	return s.kmemAddr(w, addr, false)
}

// pagesToSize is crash's size column: "431.6 MB", "394 MB", "0".
func (s *Session) pagesToSize(pages uint64) string {
	if pages == 0 {
		return "0"
	}
	return strings.Replace(formatBytesDec(pages*s.Kernel.PageSize()), ".0 ", " ", 1)
}

func formatBytesDec(n uint64) string {
	f := float64(n)
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", f/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", f/(1<<20))
	}
	return fmt.Sprintf("%.1f KB", f/(1<<10))
}

// kmemInfo is kmem -i in crash's table.
func (s *Session) kmemInfo(w io.Writer) error {
	if err := s.needTypes("kmem -i"); err != nil {
		return err
	}
	m, err := s.Kernel.MemInfo()
	if err != nil {
		return fmt.Errorf("kmem -i: %w", err)
	}
	row := func(label string, pages uint64, of string, total uint64) {
		pct := "         ----"
		if of != "" {
			p := uint64(0)
			if total > 0 {
				p = pages * 100 / total
			}
			pct = fmt.Sprintf("%5d%% of %s", p, of)
		}
		fmt.Fprintf(w, "%13s%9d%13s%s\n", label, pages, s.pagesToSize(pages), pct)
	}
	fmt.Fprintln(w, "                 PAGES        TOTAL      PERCENTAGE")
	row("TOTAL MEM", m.Total, "", 0)
	row("FREE", m.Free, "TOTAL MEM", m.Total)
	row("USED", m.Total-min(m.Free, m.Total), "TOTAL MEM", m.Total)
	row("SHARED", m.SharedPages, "TOTAL MEM", m.Total)
	row("BUFFERS", m.Buffers, "TOTAL MEM", m.Total)
	row("CACHED", m.Cached, "TOTAL MEM", m.Total)
	row("SLAB", m.Slab, "TOTAL MEM", m.Total)
	fmt.Fprintln(w)
	row("TOTAL HUGE", m.HugeTotal, "", 0)
	row("HUGE FREE", m.HugeFree, "TOTAL HUGE", m.HugeTotal)
	fmt.Fprintln(w)
	row("TOTAL SWAP", m.SwapTotal, "", 0)
	row("SWAP USED", m.SwapTotal-min(m.SwapFree, m.SwapTotal), "TOTAL SWAP", m.SwapTotal)
	row("SWAP FREE", m.SwapFree, "TOTAL SWAP", m.SwapTotal)
	fmt.Fprintln(w)
	row("COMMIT LIMIT", m.CommitLimit, "", 0)
	row("COMMITTED", m.Committed, "TOTAL LIMIT", m.CommitLimit)
	return nil
}

// kmemAddr says what an address is.
func (s *Session) kmemAddr(w io.Writer, addr uint64, physical bool) error {
	found := false
	phys := addr
	if !physical {
		// Absolute symbols (sizes, offsets the linker defines) name no
		// memory.
		if sy, off, err := s.Kernel.Syms.At(addr); err == nil && (off < sy.Size || off == 0) && sy.Letter()|0x20 != 'a' {
			name := escape.Text(sy.Name)
			if off > 0 {
				name += fmt.Sprintf("+%d", off)
			}
			fmt.Fprintf(w, "%x (%c) %s\n\n", addr, sy.Letter(), name)
			found = true
		}
		if h, err := s.Kernel.SlabHitAt(addr); err == nil {
			s.slabHit(w, h, false)
			fmt.Fprintln(w)
			found = true
		} else if !errors.Is(err, kernel.ErrNotSlab) && !errors.Is(err, kernel.ErrNoTypes) {
			s.warn(w, err)
		}
		if areas, _ := s.Kernel.VmapAreas(); len(areas) > 0 {
			for _, a := range areas {
				if addr >= a.Start && addr < a.End {
					s.vmallocRows(w, []kernel.VmapArea{a})
					fmt.Fprintln(w)
					found = true
				}
			}
		}
		if t, what, ok := s.taskHolding(addr); ok {
			if what == "task" {
				fmt.Fprintf(w, "    PID: %d\nCOMMAND: %q\n   TASK: %x  [THREAD_INFO: %x]\n    CPU: %d\n  STATE: %s \n\n", t.PID, t.Comm, t.Addr, t.Addr, t.CPU, t.StateLong())
			} else {
				fmt.Fprintf(w, "%x: kernel stack of PID %d (%q), task %x, stack %x-%x\n\n", addr, t.PID, t.Comm, t.Addr, t.Stack, t.Stack+s.Kernel.StackSize())
			}
			found = true
		}
		pa, err := s.Kernel.VirtToPhys(addr)
		if err != nil {
			if !found {
				return fmt.Errorf("kmem: %#x: %w", addr, err)
			}
			return nil
		}
		phys = pa
	}
	p, err := s.Kernel.PageOf(phys)
	if err != nil {
		if !found {
			return fmt.Errorf("kmem: %w", err)
		}
		return nil
	}
	s.pageHeader(w)
	s.pageRow(w, p)
	return nil
}

// taskHolding finds the task whose task_struct or kernel stack holds
// addr.
func (s *Session) taskHolding(addr uint64) (kernel.Task, string, bool) {
	tasks, _ := s.Kernel.Tasks()
	size := uint64(0)
	if s.Kernel.Types != nil {
		if n, err := s.Kernel.Types.Size("struct task_struct"); err == nil {
			size = uint64(n)
		}
	}
	stack := s.Kernel.StackSize()
	for _, t := range tasks {
		switch {
		case addr >= t.Addr && addr < t.Addr+size:
			return t, "task", true
		case stack > 0 && t.Stack != 0 && addr >= t.Stack && addr < t.Stack+stack:
			return t, "stack", true
		}
	}
	return kernel.Task{}, "", false
}
