package kernel

import (
	"debug/dwarf"
	"fmt"
	"sort"
	"strings"

	"github.com/kdumpkit/kdumpkit/analyze/types"
)

// Page is one struct page, as crash's kmem shows it.
type Page struct {
	Addr     uint64 // the struct page
	Phys     uint64
	Mapping  uint64
	Index    uint64
	Count    int64  // _refcount
	Flags    uint64 // the page-flag bits of page->flags
	FlagName []string
}

// PageOf returns the struct page of a physical address on a FLATMEM
// kernel (ARM's): contig_page_data.node_mem_map + (pfn -
// node_start_pfn) * sizeof(struct page) (include/linux/mmzone.h, 6.1).
func (k *Kernel) PageOf(phys uint64) (Page, error) {
	if k.Types == nil {
		return Page{}, fmt.Errorf("struct page: %w", ErrNoTypes)
	}
	pgdat, err := k.symbol("contig_page_data")
	if err != nil {
		return Page{}, fmt.Errorf("struct page of %#x: %w (only FLATMEM kernels are read)", phys, err)
	}
	memMap, err := k.field(pgdat, "struct pglist_data", "node_mem_map")
	if err != nil {
		return Page{}, err
	}
	start, err := k.field(pgdat, "struct pglist_data", "node_start_pfn")
	if err != nil {
		return Page{}, err
	}
	spanned, _ := k.field(pgdat, "struct pglist_data", "node_spanned_pages")
	size, err := k.Types.Size("struct page")
	if err != nil {
		return Page{}, err
	}
	pfn := phys / k.PageSize()
	if pfn < start || (spanned > 0 && pfn >= start+spanned) {
		return Page{}, fmt.Errorf("physical %#x is outside the node's pages (pfn %#x not in %#x+%#x)", phys, pfn, start, spanned)
	}
	p := Page{Addr: (memMap + (pfn-start)*uint64(size)) & k.mask(), Phys: pfn * k.PageSize()}
	flags, err := k.field(p.Addr, "struct page", "flags")
	if err != nil {
		return p, err
	}
	p.Mapping, _ = k.field(p.Addr, "struct page", "mapping")
	p.Index, _ = k.field(p.Addr, "struct page", "index")
	if c, err := k.field(p.Addr, "struct page", "_refcount"); err == nil {
		p.Count = int64(int32(c))
	}
	names, nr := k.pageFlagNames()
	if nr > 0 && nr < 64 {
		flags &= 1<<uint(nr) - 1 // the rest of page->flags is zone, node and section
	}
	p.Flags = flags
	for bit := uint(0); bit < 64; bit++ {
		if flags&(1<<bit) != 0 {
			if n, ok := names[int64(bit)]; ok {
				p.FlagName = append(p.FlagName, n)
			}
		}
	}
	return p, nil
}

// pageFlagNames reads enum pageflags: bit → name without "PG_", and
// __NR_PAGEFLAGS. Aliases (PG_owner_priv_1 and its kin share a bit) keep
// the first name.
func (k *Kernel) pageFlagNames() (map[int64]string, int64) {
	out := map[int64]string{}
	t, err := k.Types.Named("enum pageflags")
	if err != nil {
		return out, 0
	}
	et, ok := types.Strip(t).(*dwarf.EnumType)
	if !ok {
		return out, 0
	}
	nr := int64(0)
	vals := append([]*dwarf.EnumValue(nil), et.Val...)
	sort.SliceStable(vals, func(i, j int) bool { return vals[i].Val < vals[j].Val })
	for _, v := range vals {
		if v.Name == "__NR_PAGEFLAGS" {
			nr = v.Val
			continue
		}
		if _, dup := out[v.Val]; !dup && strings.HasPrefix(v.Name, "PG_") {
			out[v.Val] = strings.TrimPrefix(v.Name, "PG_")
		}
	}
	return out, nr
}

// StackSize is the kernel stack size: sizeof(union thread_union), the
// arch's default when DWARF cannot say; 0 without stack conventions.
func (k *Kernel) StackSize() uint64 {
	fr, _, err := k.frames()
	if err != nil {
		return 0
	}
	return k.threadSize(fr)
}
