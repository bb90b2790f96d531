package commands

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/kdumpkit/kdumpkit/analyze/kernel"
)

// kmemVmalloc is kmem -v: the vmalloc areas in use, or the one holding
// an address.
func (s *Session) kmemVmalloc(w io.Writer, arg string) error {
	if err := s.needTypes("kmem -v"); err != nil {
		return err
	}
	var addr uint64
	if arg != "" {
		a, err := s.parseAddr(arg)
		if err != nil {
			return fmt.Errorf("kmem -v: %w", err)
		}
		addr = a
	}
	areas, err := s.Kernel.VmapAreas()
	if len(areas) == 0 && err != nil {
		return fmt.Errorf("kmem -v: %w", err)
	}
	if addr != 0 {
		var hit []kernel.VmapArea
		for _, a := range areas {
			if addr >= a.Start && addr < a.End {
				hit = append(hit, a)
			}
		}
		if len(hit) == 0 {
			return fmt.Errorf("kmem -v: %#x is in no vmalloc area", addr)
		}
		areas = hit
	}
	s.vmallocRows(w, areas)
	if err != nil {
		s.warn(w, err)
	}
	return nil
}

func (s *Session) vmallocRows(w io.Writer, areas []kernel.VmapArea) {
	d := 2 * s.Kernel.PtrSize
	fmt.Fprintf(w, "%-*s%-*s%s     SIZE\n", d+3, "VMAP_AREA", d+3, "VM_STRUCT", centre("ADDRESS RANGE", 2*d+3))
	for _, a := range areas {
		fmt.Fprintf(w, "%-*x   %-*x   %*x - %*x  %7d\n", d, a.Addr, d, a.VM, d, a.Start, d, a.End, a.End-a.Start)
	}
}

// pageHeader is kmem -p's header.
func (s *Session) pageHeader(w io.Writer) {
	d := 2 * s.Kernel.PtrSize
	// crash's INDEX title stops a column short of its values.
	fmt.Fprintf(w, "%s  %*s  %*s  %*s CNT FLAGS\n", centre("PAGE", d), d, "PHYSICAL", d, "MAPPING", d-1, "INDEX")
}

func (s *Session) pageRow(w io.Writer, p kernel.Page) {
	d := 2 * s.Kernel.PtrSize
	line := fmt.Sprintf("%*x  %*x  %*x  %*x %2d %x %s", d, p.Addr, d, p.Phys, d, p.Mapping, d, p.Index, p.Count, p.Flags, strings.Join(p.FlagName, ","))
	fmt.Fprintln(w, strings.TrimRight(line, " "))
}

// kmemPages is kmem -p: every struct page, or the one of an address — a
// struct page, a kernel virtual address or a physical one, tried in that
// order as crash does.
func (s *Session) kmemPages(w io.Writer, arg string) error {
	if err := s.needTypes("kmem -p"); err != nil {
		return err
	}
	if arg == "" {
		s.pageHeader(w)
		return s.Kernel.EachPage(0, func(p kernel.Page) bool {
			s.pageRow(w, p)
			return true
		})
	}
	addr, err := s.parseAddr(arg)
	if err != nil {
		return fmt.Errorf("kmem -p: %w", err)
	}
	phys := addr
	if pfn, err := s.Kernel.PFNOfPage(addr); err == nil {
		phys = pfn * s.Kernel.PageSize()
	} else if pa, err := s.Kernel.VirtToPhys(addr); err == nil {
		phys = pa
	}
	p, err := s.Kernel.PageOf(phys)
	if err != nil {
		return fmt.Errorf("kmem -p: %#x: %w", addr, err)
	}
	s.pageHeader(w)
	s.pageRow(w, p)
	return nil
}

// kmemFlags is kmem -g: enum pageflags, or the flags set in a value.
func (s *Session) kmemFlags(w io.Writer, arg string) error {
	if err := s.needTypes("kmem -g"); err != nil {
		return err
	}
	flags, nr, err := s.Kernel.PageFlags()
	if err != nil {
		return fmt.Errorf("kmem -g: %w", err)
	}
	digits := len(fmt.Sprintf("%x", uint64(1)<<uint(max(nr-1, 0))))
	if arg == "" {
		fmt.Fprintln(w, "PAGE-FLAG         BIT  VALUE")
		for _, f := range flags {
			fmt.Fprintf(w, "%-18s%3d  %0*x\n", f.Name, f.Bit, digits, uint64(1)<<uint(f.Bit))
		}
		return nil
	}
	v, err := strconv.ParseUint(strings.TrimPrefix(arg, "0x"), 16, 64)
	if err != nil {
		return fmt.Errorf("kmem -g: %q is not a hexadecimal flags value", arg)
	}
	fmt.Fprintf(w, "FLAGS: %x\n  PAGE-FLAG         BIT  VALUE\n", v)
	for _, f := range flags {
		if v&(1<<uint(f.Bit)) != 0 {
			fmt.Fprintf(w, "  %-18s%3d  %0*x\n", f.Name, f.Bit, digits, uint64(1)<<uint(f.Bit))
		}
	}
	return nil
}

// kmemFree is kmem -f: each zone's free lists by order and migrate type,
// then the pages they hold against the kernel's NR_FREE_PAGES count.
func (s *Session) kmemFree(w io.Writer) error {
	if err := s.needTypes("kmem -f"); err != nil {
		return err
	}
	zones, err := s.Kernel.Zones()
	if len(zones) == 0 && err != nil {
		return fmt.Errorf("kmem -f: %w", err)
	}
	d := 2 * s.Kernel.PtrSize
	var found, counted uint64
	for i, z := range zones {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "ZONE  NAME        SIZE    FREE  %s  START_PADDR  START_MAPNR\n", centre("MEM_MAP", d))
		fmt.Fprintf(w, "%3d   %-7s%9d%8d  %s  %s  %s\n", z.Index, z.Name, z.Spanned, z.FreePages,
			centre(fmt.Sprintf("%x", z.MemMap), d), centre(fmt.Sprintf("%x", z.StartPFN*s.Kernel.PageSize()), 12), centre(fmt.Sprint(z.StartPFN), 10))
		counted += z.FreePages
		if len(z.Areas) == 0 {
			continue
		}
		fmt.Fprintf(w, "AREA    SIZE  %s  BLOCKS  PAGES\n", centre("FREE_AREA_STRUCT", max(d, 16)))
		for _, a := range z.Areas {
			kb := (s.Kernel.PageSize() << uint(a.Order)) / 1024
			pages := a.Blocks << uint(a.Order)
			found += pages
			fmt.Fprintf(w, "%3d%9s%*x%12d%7d\n", a.Order, fmt.Sprintf("%dk", kb), max(d, 8)+6, a.Addr, a.Blocks, pages)
		}
	}
	fmt.Fprintln(w)
	if found == counted {
		fmt.Fprintf(w, "nr_free_pages: %d  (verified)\n", counted)
	} else {
		fmt.Fprintf(w, "nr_free_pages: %d  (found %d)\n", counted, found)
	}
	if err != nil {
		s.warn(w, err)
	}
	return nil
}
