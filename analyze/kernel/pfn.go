package kernel

import (
	"debug/dwarf"
	"fmt"
	"strconv"

	"github.com/kdumpkit/kdumpkit/analyze/types"
)

// pageSpan is a run of pfns whose struct pages are contiguous: pfn's
// page is page + (pfn-first)*size.
type pageSpan struct{ first, n, page uint64 }

// memMap says where each pfn's struct page is, for FLATMEM (ARM's
// contig_page_data.node_mem_map from node_start_pfn) and SPARSEMEM (each
// mem_section's section_mem_map, which the kernel stores less the
// section's first pfn, so pfn's page is map + pfn*size; vmemmap
// included), as include/linux/mmzone.h of 6.1 and 6.12 lay them out.
type memMap struct {
	spans    []pageSpan
	pageSize uint64 // sizeof(struct page)
}

// maxSectionRoots bounds the mem_section roots read (a corrupt
// MAX_PHYSMEM_BITS must not make the walk read gigabytes).
const maxSectionRoots = 1 << 20

func (k *Kernel) memMap() (*memMap, error) {
	if k.Types == nil {
		return nil, fmt.Errorf("struct page: %w", ErrNoTypes)
	}
	size, err := k.Types.Size("struct page")
	if err != nil || size <= 0 {
		return nil, fmt.Errorf("sizeof(struct page): %v", err)
	}
	m := &memMap{pageSize: uint64(size)}
	if _, err := k.symbol("mem_section"); err != nil {
		pgdat, err := k.symbol("contig_page_data")
		if err != nil {
			return nil, fmt.Errorf("struct page: neither contig_page_data (FLATMEM) nor mem_section (SPARSEMEM): %w", err)
		}
		base, err := k.field(pgdat, "struct pglist_data", "node_mem_map")
		if err != nil {
			return nil, err
		}
		start, err := k.field(pgdat, "struct pglist_data", "node_start_pfn")
		if err != nil {
			return nil, err
		}
		n, err := k.field(pgdat, "struct pglist_data", "node_spanned_pages")
		if err != nil {
			return nil, err
		}
		m.spans = []pageSpan{{first: start, n: n, page: base}}
		return m, nil
	}
	ms, err := k.symbol("mem_section")
	if err != nil {
		return nil, err
	}
	secBits, err1 := strconv.ParseUint(k.VMCOREINFO["NUMBER(SECTION_SIZE_BITS)"], 10, 64)
	physBits, err2 := strconv.ParseUint(k.VMCOREINFO["NUMBER(MAX_PHYSMEM_BITS)"], 10, 64)
	secSize, err3 := k.Types.Size("struct mem_section")
	mapOff, err4 := k.off("struct mem_section", "section_mem_map")
	shift := uint64(0)
	for ps := k.PageSize(); ps > 1; ps >>= 1 {
		shift++
	}
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil || secSize <= 0 || secBits <= shift || physBits > 64 || secBits >= physBits {
		return nil, fmt.Errorf("SPARSEMEM: SECTION_SIZE_BITS %q, MAX_PHYSMEM_BITS %q in VMCOREINFO, struct mem_section %d bytes: cannot place struct pages",
			k.VMCOREINFO["NUMBER(SECTION_SIZE_BITS)"], k.VMCOREINFO["NUMBER(MAX_PHYSMEM_BITS)"], secSize)
	}
	nrSections := uint64(1) << (physBits - secBits)
	pagesPerSection := uint64(1) << (secBits - shift)
	// SPARSEMEM_EXTREME makes mem_section a pointer to root pointers,
	// each to a page of sections; otherwise it is the array itself.
	extreme := false
	if t, err := k.Types.Variable("mem_section"); err == nil {
		_, extreme = types.Strip(t).(*dwarf.PtrType)
	}
	perRoot := uint64(1)
	if extreme {
		perRoot = k.PageSize() / uint64(secSize)
	}
	roots := (nrSections + perRoot - 1) / perRoot
	if roots > maxSectionRoots {
		return nil, fmt.Errorf("SPARSEMEM: %d section roots: MAX_PHYSMEM_BITS %d too large", roots, physBits)
	}
	rootArray := ms
	if extreme {
		if rootArray, err = k.ReadPtr(ms); err != nil {
			return nil, fmt.Errorf("mem_section: %w", err)
		}
	}
	buf := make([]byte, perRoot*uint64(secSize))
	for r := uint64(0); r < roots; r++ {
		base := rootArray + r*perRoot*uint64(secSize)
		if extreme {
			if base, err = k.ReadPtr(rootArray + r*uint64(k.PtrSize)); err != nil {
				return nil, fmt.Errorf("mem_section root %d: %w", r, err)
			}
			if base == 0 {
				continue
			}
		}
		if err := k.Mem.ReadVirt(base, buf); err != nil {
			continue // a root page the dump left out: its sections stay unknown
		}
		for i := uint64(0); i < perRoot; i++ {
			enc := k.Uint(buf[i*uint64(secSize)+uint64(mapOff):], k.PtrSize)
			const hasMemMap = 1 << 1 // SECTION_HAS_MEM_MAP
			if enc&hasMemMap == 0 {
				continue
			}
			nr := r*perRoot + i
			// The flag bits below bit 6 are cleared (the map is page
			// aligned, and 6.1 to 6.12 use at most 6 of them).
			page := (enc&^0x3f + nr*pagesPerSection*uint64(size)) & k.mask()
			if l := len(m.spans); l > 0 && m.spans[l-1].first+m.spans[l-1].n == nr*pagesPerSection &&
				m.spans[l-1].page+m.spans[l-1].n*uint64(size) == page {
				m.spans[l-1].n += pagesPerSection
				continue
			}
			m.spans = append(m.spans, pageSpan{first: nr * pagesPerSection, n: pagesPerSection, page: page})
		}
	}
	if len(m.spans) == 0 {
		return nil, fmt.Errorf("SPARSEMEM: no mem_section has a mem_map")
	}
	return m, nil
}

// page returns pfn's struct page.
func (m *memMap) page(pfn uint64) (uint64, bool) {
	for _, s := range m.spans {
		if pfn >= s.first && pfn < s.first+s.n {
			return s.page + (pfn-s.first)*m.pageSize, true
		}
	}
	return 0, false
}

// pfn returns the pfn of a struct page (which must be the start of one).
func (m *memMap) pfn(page uint64) (uint64, bool) {
	for _, s := range m.spans {
		if page >= s.page && page < s.page+s.n*m.pageSize && (page-s.page)%m.pageSize == 0 {
			return s.first + (page-s.page)/m.pageSize, true
		}
	}
	return 0, false
}

// PageStruct returns the struct page of a pfn.
func (k *Kernel) PageStruct(pfn uint64) (uint64, error) {
	m, err := k.memMap()
	if err != nil {
		return 0, err
	}
	p, ok := m.page(pfn)
	if !ok {
		return 0, fmt.Errorf("pfn %#x has no struct page", pfn)
	}
	return p, nil
}

// PFNOfPage returns the pfn whose struct page is at page.
func (k *Kernel) PFNOfPage(page uint64) (uint64, error) {
	m, err := k.memMap()
	if err != nil {
		return 0, err
	}
	p, ok := m.pfn(page)
	if !ok {
		return 0, fmt.Errorf("%#x is not a struct page", page)
	}
	return p, nil
}

// EachPage calls fn with every struct page of pfns from first on (0: all),
// in pfn order, read a chunk at a time, until fn returns false. A chunk
// the dump lacks is skipped.
func (k *Kernel) EachPage(first uint64, fn func(Page) bool) error {
	m, err := k.memMap()
	if err != nil {
		return err
	}
	var offs [4]int64
	for i, f := range []string{"flags", "mapping", "index", "_refcount"} {
		if offs[i], err = k.off("struct page", f); err != nil {
			return err
		}
	}
	names, nr := k.pageFlagNames()
	const chunk = 1024
	buf := make([]byte, chunk*m.pageSize)
	for _, sp := range m.spans {
		for i := uint64(0); i < sp.n; i += chunk {
			c := min(chunk, sp.n-i)
			if sp.first+i+c <= first {
				continue
			}
			if err := k.Mem.ReadVirt(sp.page+i*m.pageSize, buf[:c*m.pageSize]); err != nil {
				continue
			}
			for j := uint64(0); j < c; j++ {
				pfn := sp.first + i + j
				if pfn < first {
					continue
				}
				b := buf[j*m.pageSize:]
				p := Page{Addr: sp.page + (i+j)*m.pageSize, Phys: pfn * k.PageSize()}
				p.Flags = k.Uint(b[offs[0]:], k.PtrSize)
				p.Mapping = k.Uint(b[offs[1]:], k.PtrSize)
				p.Index = k.Uint(b[offs[2]:], k.PtrSize)
				p.Count = int64(int32(k.Uint(b[offs[3]:], 4)))
				p.Flags, p.FlagName = decodePageFlags(p.Flags, names, nr)
				if !fn(p) {
					return nil
				}
			}
		}
	}
	return nil
}

// decodePageFlags keeps the page-flag bits of page->flags (the rest is
// zone, node and section) and names them.
func decodePageFlags(flags uint64, names map[int64]string, nr int64) (uint64, []string) {
	if nr > 0 && nr < 64 {
		flags &= 1<<uint(nr) - 1
	}
	var out []string
	for bit := uint(0); bit < 64; bit++ {
		if flags&(1<<bit) != 0 {
			if n, ok := names[int64(bit)]; ok {
				out = append(out, n)
			}
		}
	}
	return flags, out
}

// PageFlag is one enumerator of enum pageflags.
type PageFlag struct {
	Name string // with its PG_ prefix
	Bit  int64
}

// PageFlags lists enum pageflags' enumerators below __NR_PAGEFLAGS in
// DWARF order, aliases included (PG_private_2 and PG_fscache share a
// bit), and __NR_PAGEFLAGS.
func (k *Kernel) PageFlags() ([]PageFlag, int64, error) {
	if k.Types == nil {
		return nil, 0, fmt.Errorf("enum pageflags: %w", ErrNoTypes)
	}
	t, err := k.Types.Named("enum pageflags")
	if err != nil {
		return nil, 0, err
	}
	et, ok := types.Strip(t).(*dwarf.EnumType)
	if !ok {
		return nil, 0, fmt.Errorf("enum pageflags is not an enum")
	}
	nr := int64(64)
	for _, v := range et.Val {
		if v.Name == "__NR_PAGEFLAGS" {
			nr = v.Val
		}
	}
	var out []PageFlag
	for _, v := range et.Val {
		if v.Val >= 0 && v.Val < nr && v.Name != "__NR_PAGEFLAGS" {
			out = append(out, PageFlag{Name: v.Name, Bit: v.Val})
		}
	}
	return out, nr, nil
}
