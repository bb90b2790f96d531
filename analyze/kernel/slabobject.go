package kernel

import (
	"errors"
	"fmt"
	"slices"
)

// ErrNotSlab means an address is not inside a slab object.
var ErrNotSlab = errors.New("not in a slab object")

// SlabObject is the slab object an address falls in.
type SlabObject struct {
	Cache     string // the kmem_cache's name
	CacheAddr uint64 // the struct kmem_cache
	Object    uint64 // the object's first byte
}

// SlabObjectAt says which slab object holds a linear-map address (SLUB
// and SLAB, 5.17+ where struct slab overlays the slab's head struct
// page): the page must be a slab page (isSlabPage, on its head page),
// slab->slab_cache names the cache, and the object is the one of
// cache->size bytes the address falls in, past the red_left_pad a
// debugging cache puts before each object. ErrNotSlab when the address
// is RAM but no slab's; other errors say what could not be read.
func (k *Kernel) SlabObjectAt(addr uint64) (SlabObject, error) {
	if k.Types == nil {
		return SlabObject{}, fmt.Errorf("slab of %#x: %w", addr, ErrNoTypes)
	}
	phys, err := k.VirtToPhys(addr)
	if err != nil {
		return SlabObject{}, fmt.Errorf("slab of %#x: %w", addr, err)
	}
	if v, err := k.PhysToVirt(phys); err != nil || v != addr {
		return SlabObject{}, fmt.Errorf("%#x is not a linear-map address: %w", addr, ErrNotSlab)
	}
	page, err := k.PageOf(phys)
	if err != nil {
		return SlabObject{}, err
	}
	head, first := page, phys&^(k.PageSize()-1)
	if ch, err := k.field(page.Addr, "struct page", "compound_head"); err == nil && ch&1 != 0 {
		// A tail page: its head's struct page holds the slab.
		size, err := k.Types.Size("struct page")
		if err != nil || size == 0 || ch-1 > page.Addr {
			return SlabObject{}, fmt.Errorf("page %#x of %#x: compound head %#x: %w", page.Addr, addr, ch-1, ErrNotSlab)
		}
		back := (page.Addr - (ch - 1)) / uint64(size)
		if head, err = k.PageOf(first - back*k.PageSize()); err != nil {
			return SlabObject{}, err
		}
		first -= back * k.PageSize()
	}
	if !k.isSlabPage(head) {
		return SlabObject{}, fmt.Errorf("page %#x of %#x: %w", head.Addr, addr, ErrNotSlab)
	}
	cache, err := k.field(head.Addr, "struct slab", "slab_cache")
	if err != nil || cache == 0 {
		return SlabObject{}, fmt.Errorf("slab %#x: slab_cache %#x: %v", head.Addr, cache, err)
	}
	out := SlabObject{CacheAddr: cache}
	size, err := k.field(cache, "struct kmem_cache", "size")
	if err != nil || size == 0 {
		return out, fmt.Errorf("kmem_cache %#x: object size %d: %v", cache, size, err)
	}
	pad, _ := k.field(cache, "struct kmem_cache", "red_left_pad")
	if name, err := k.field(cache, "struct kmem_cache", "name"); err == nil {
		out.Cache, _ = k.ReadString(name, 64)
	}
	if out.Cache == "" {
		out.Cache = fmt.Sprintf("kmem_cache %#x", cache)
	}
	base, err := k.PhysToVirt(first)
	if err != nil {
		return out, err
	}
	// A slot is the left red zone, then the object (mm/slub.c fixup_red_left).
	out.Object = base + (addr-base)/size*size + pad
	return out, nil
}

// isSlabPage says whether a (head) struct page is a slab's. Up to 6.9 a
// page flag says so (PG_slab); 6.10 and 6.11 made it a page type, a bit
// that is clear in page->page_type under PAGE_TYPE_BASE (0xf0000000,
// PG_slab 0x1000); since 6.12 page_type's top byte is enum pagetype's
// PGTY_slab (include/linux/page-flags.h).
func (k *Kernel) isSlabPage(p Page) bool {
	if slices.Contains(p.FlagName, "slab") {
		return true
	}
	if names, _ := k.pageFlagNames(); slices.Contains(mapValues(names), "slab") {
		return false // PG_slab is a flag here, and not set
	}
	pt, err := k.field(p.Addr, "struct page", "page_type")
	if err != nil {
		return false
	}
	if v, err := k.EnumValue("enum pagetype", "PGTY_slab"); err == nil {
		return pt>>24 == uint64(v)
	}
	const pageTypeBase, pgSlab = 0xf0000000, 0x00001000
	return pt&(pageTypeBase|pgSlab) == pageTypeBase
}

func mapValues(m map[int64]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
