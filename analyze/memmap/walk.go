package memmap

import (
	"encoding/binary"
	"fmt"

	"github.com/kdumpkit/kdumpkit/analyze/vmcoreinfo"
)

// span is a run of pfns whose struct pages are contiguous in memory.
type span struct{ pfn, n, addr uint64 }

// Filter walks one dump's mem_map.
type Filter struct {
	mem   Memory
	order binary.ByteOrder
	ptr   int
	l     *pageLayout
	spans []span
	// compound_dtor (before 6.6): the hugetlb destructor's number.
	dtorOff, hugetlbDtor int64
	// Model says where the struct pages were found: "FLATMEM" or "SPARSEMEM".
	Model string
}

// Stats counts what Exclude did.
type Stats struct {
	Pages      uint64 // RAM pages looked at
	Excluded   [numClasses]uint64
	Unreadable uint64 // pages whose struct page could not be read: kept
}

// Count is the number of pages excluded as c.
func (s *Stats) Count(c Class) uint64 { return s.Excluded[c] }

// New finds the struct pages from VMCOREINFO. firstPFN is the lowest RAM
// pfn, used only when the kernel exports mem_map but no node.
func New(mem Memory, order binary.ByteOrder, ptrSize int, info *vmcoreinfo.Info, firstPFN uint64) (*Filter, error) {
	l, err := readLayout(info)
	if err != nil {
		return nil, err
	}
	f := &Filter{mem: mem, order: order, ptr: ptrSize, l: l, dtorOff: -1, hugetlbDtor: -1}
	if v, err := info.Offset("page", "compound_dtor"); err == nil {
		f.dtorOff = int64(v)
	}
	if v, err := info.Number("HUGETLB_PAGE_DTOR"); err == nil {
		f.hugetlbDtor = int64(v)
	}
	if _, err := info.Symbol("mem_section"); err == nil {
		f.Model = "SPARSEMEM"
		return f, f.sparse(info)
	}
	f.Model = "FLATMEM"
	return f, f.flat(info, firstPFN)
}

func (f *Filter) readWord(addr uint64) (uint64, error) {
	var b [8]byte
	if err := f.mem.ReadVirt(addr, b[:f.ptr]); err != nil {
		return 0, err
	}
	if f.ptr == 4 {
		return uint64(f.order.Uint32(b[:])), nil
	}
	return f.order.Uint64(b[:]), nil
}

// flat: one node, contig_page_data; node_mem_map is the struct page of
// node_start_pfn.
func (f *Filter) flat(info *vmcoreinfo.Info, firstPFN uint64) error {
	if node, err := info.Symbol("contig_page_data"); err == nil {
		var vals [3]uint64
		for i, m := range []string{"node_mem_map", "node_start_pfn", "node_spanned_pages"} {
			o, err := info.Offset("pglist_data", m)
			if err != nil {
				return fmt.Errorf("%w: FLATMEM: %w", ErrLayout, err)
			}
			if vals[i], err = f.readWord(node + o); err != nil {
				return fmt.Errorf("reading contig_page_data.%s: %w", m, err)
			}
		}
		f.spans = []span{{pfn: vals[1], n: vals[2], addr: vals[0]}}
		return nil
	}
	sym, err := info.Symbol("mem_map")
	if err != nil {
		return fmt.Errorf("%w: neither SYMBOL(mem_section), SYMBOL(contig_page_data) nor SYMBOL(mem_map)", ErrLayout)
	}
	addr, err := f.readWord(sym)
	if err != nil {
		return fmt.Errorf("reading mem_map: %w", err)
	}
	f.spans = []span{{pfn: firstPFN, n: 1 << 40, addr: addr}}
	return nil
}

// sectionMapMask clears section_mem_map's flag bits (SECTION_MARKED_PRESENT,
// HAS_MEM_MAP, IS_ONLINE, IS_EARLY, TAINT_ZONE_DEVICE...); the encoded map
// is page aligned, so clearing six bits is safe on every kernel.
const sectionMapMask = ^uint64(0x3f)

const sectionHasMemMap = 1 << 1

// sparse reads mem_section: with SPARSEMEM_EXTREME an array of root
// pointers (LENGTH(mem_section) of them), each to a page of sections;
// otherwise one section per root. A section's section_mem_map is its
// struct page array minus its first pfn, so pfn's page is map + pfn*size.
func (f *Filter) sparse(info *vmcoreinfo.Info) error {
	sym, _ := info.Symbol("mem_section")
	var need [5]uint64
	var err error
	for i, get := range []func() (uint64, error){
		func() (uint64, error) { return info.Size("mem_section") },
		func() (uint64, error) { return info.Offset("mem_section", "section_mem_map") },
		func() (uint64, error) { return info.Length("mem_section") },
		func() (uint64, error) { return info.Number("SECTION_SIZE_BITS") },
		func() (uint64, error) { return info.Number("MAX_PHYSMEM_BITS") },
	} {
		if need[i], err = get(); err != nil {
			return fmt.Errorf("%w: SPARSEMEM: %w", ErrLayout, err)
		}
	}
	secSize, mapOff, roots, secBits, physBits := need[0], need[1], need[2], need[3], need[4]
	shift := uint64(0)
	for ps := info.PageSize(); ps > 1; ps >>= 1 {
		shift++
	}
	if secSize == 0 || secBits <= shift || secBits >= physBits || physBits > 64 || roots == 0 || roots > 1<<24 {
		return fmt.Errorf("%w: SPARSEMEM: SIZE(mem_section)=%d SECTION_SIZE_BITS=%d MAX_PHYSMEM_BITS=%d LENGTH(mem_section)=%d", ErrLayout, secSize, secBits, physBits, roots)
	}
	nrSections := uint64(1) << (physBits - secBits)
	perRoot, extreme := uint64(1), roots != nrSections
	if extreme {
		perRoot = info.PageSize() / secSize
	}
	pps := uint64(1) << (secBits - shift)
	buf := make([]byte, perRoot*secSize)
	for r := uint64(0); r < roots; r++ {
		base := sym + r*perRoot*secSize
		if extreme {
			if base, err = f.readWord(sym + r*uint64(f.ptr)); err != nil {
				return fmt.Errorf("reading mem_section root %d: %w", r, err)
			}
			if base == 0 {
				continue
			}
		}
		if err := f.mem.ReadVirt(base, buf); err != nil {
			return fmt.Errorf("reading mem_section root %d at %#x: %w", r, base, err)
		}
		for i := uint64(0); i < perRoot; i++ {
			raw := buf[i*secSize+mapOff:]
			m := uint64(f.order.Uint32(raw))
			if f.ptr == 8 {
				m = f.order.Uint64(raw)
			}
			if m&sectionHasMemMap == 0 {
				continue
			}
			nr := r*perRoot + i
			f.spans = append(f.spans, span{pfn: nr * pps, n: pps, addr: m&sectionMapMask + nr*pps*f.l.size})
		}
	}
	if len(f.spans) == 0 {
		return fmt.Errorf("%w: SPARSEMEM: no section has a mem_map", ErrLayout)
	}
	return nil
}

// chunk is how many struct pages are read at once (makedumpfile's
// PGMM_CACHED): 512 × 32-64 bytes.
const chunk = 512

// Exclude walks the struct pages of pfns in [from, to) that ram reports
// and calls drop for each run of pfns the level excludes: free blocks
// by their buddy order, compound pages (THP, hugetlbfs) whole from their
// head. A struct page that cannot be read keeps its page.
func (f *Filter) Exclude(level int, from, to uint64, ram func(pfn uint64) bool, drop func(pfn, n uint64, c Class)) Stats {
	var st Stats
	if level&^ExcludeZero == 0 {
		return st
	}
	l, size := f.l, f.l.size
	buf := make([]byte, (chunk+1)*size)
	skip := uint64(0) // pfns below were dropped with their block
	for _, s := range f.spans {
		lo, hi := max(s.pfn, from), min(s.pfn+s.n, to)
		for c := lo; c < hi; c += chunk {
			n := min(chunk, hi-c)
			any := false
			for p := c; p < c+n && !any; p++ {
				any = ram(p)
			}
			if !any {
				continue
			}
			k := min(n+1, s.pfn+s.n-c) // one more for a head's page[1]
			if err := f.mem.ReadVirt(s.addr+(c-s.pfn)*size, buf[:k*size]); err != nil {
				for p := c; p < c+n; p++ {
					if ram(p) {
						st.Pages++
						st.Unreadable++
					}
				}
				continue
			}
			for j := uint64(0); j < n; j++ {
				pfn := c + j
				if !ram(pfn) {
					continue
				}
				st.Pages++
				if pfn < skip {
					continue
				}
				p := l.decode(buf[j*size:(j+1)*size], f.order, f.ptr)
				if p.compoundHead&1 != 0 {
					continue // a tail: its head decided for the whole page
				}
				order, hugetlb := uint64(0), false
				if l.headMask != 0 && p.flags&l.headMask != 0 && j+1 < k {
					order, hugetlb = f.compound(p, buf[(j+1)*size:(j+2)*size])
					if order >= 64 || pfn&(1<<order-1) != 0 {
						order = 0
					}
				}
				cl := l.classify(p, level, hugetlb)
				if cl == Kept {
					continue
				}
				nr := uint64(1) << order
				if cl == Free {
					if p.private >= l.maxOrder {
						continue // not a valid order: keep, as makedumpfile warns and keeps
					}
					nr = 1 << p.private
				}
				drop(pfn, nr, cl)
				st.Excluded[cl] += nr
				skip = pfn + nr
			}
		}
	}
	return st
}

// compound reads a head page's order and whether it is hugetlbfs from the
// first tail page (folio._flags_1 from 6.6; compound_order/_dtor before).
func (f *Filter) compound(head page, tail []byte) (order uint64, hugetlb bool) {
	l := f.l
	t := l.decode(tail, f.order, f.ptr)
	if l.folioOrder {
		order = t.flags & 0xff
		hugetlb = l.hugetlbType != noType && head.mapcount == l.hugetlbType || bit(t.flags, l.hugetlbBit)
		return order, hugetlb
	}
	if l.compoundOrder >= 0 && l.compoundOrder < int64(len(tail)) {
		order = uint64(tail[l.compoundOrder])
	}
	if f.dtorOff >= 0 && f.dtorOff < int64(len(tail)) && f.hugetlbDtor >= 0 {
		hugetlb = int64(tail[f.dtorOff]) == f.hugetlbDtor
	}
	return order, hugetlb
}
