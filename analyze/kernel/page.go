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

// PageOf returns the struct page of a physical address (memMap: FLATMEM
// or SPARSEMEM).
func (k *Kernel) PageOf(phys uint64) (Page, error) {
	m, err := k.memMap()
	if err != nil {
		return Page{}, fmt.Errorf("struct page of %#x: %w", phys, err)
	}
	pfn := phys / k.PageSize()
	addr, ok := m.page(pfn)
	if !ok {
		return Page{}, fmt.Errorf("physical %#x: pfn %#x has no struct page", phys, pfn)
	}
	p := Page{Addr: addr, Phys: pfn * k.PageSize()}
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
	p.Flags, p.FlagName = decodePageFlags(flags, names, nr)
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
