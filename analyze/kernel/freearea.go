package kernel

import (
	"errors"
	"fmt"
)

// Zone is one struct zone of a node with its buddy allocator's free
// lists (include/linux/mmzone.h): free_area[order].free_list[migratetype]
// holds the free blocks of 2^order pages.
type Zone struct {
	Addr      uint64
	Index     int
	Name      string
	Spanned   uint64 // spanned_pages
	StartPFN  uint64 // zone_start_pfn
	FreePages uint64 // vm_stat[NR_FREE_PAGES]
	MemMap    uint64 // the struct page of StartPFN, 0 for an empty zone
	Areas     []FreeList
}

// FreeList is one free_area[Order].free_list[Type]: its address and how
// many blocks the walk found on it.
type FreeList struct {
	Order, Type int
	Addr        uint64
	Blocks      uint64
}

// maxFreeBlocks bounds one free list's walk.
const maxFreeBlocks = 1 << 22

// Zones reads node 0's zones (every kernel read here has one node) and
// walks their free lists.
func (k *Kernel) Zones() ([]Zone, error) {
	if k.Types == nil {
		return nil, fmt.Errorf("zones: %w", ErrNoTypes)
	}
	pgdat, err := k.symbol("contig_page_data")
	if err != nil {
		// A NUMA or SPARSEMEM kernel: node_data[0].
		nd, err2 := k.symbol("node_data")
		if err2 != nil {
			return nil, fmt.Errorf("neither contig_page_data nor node_data: %w", err)
		}
		if pgdat, err = k.ReadPtr(nd); err != nil {
			return nil, fmt.Errorf("node_data[0]: %w", err)
		}
	}
	zonesF, err := k.Types.FieldOf("struct pglist_data", "node_zones")
	if err != nil {
		return nil, err
	}
	zsize, err := k.Types.Size("struct zone")
	if err != nil || zsize <= 0 {
		return nil, fmt.Errorf("sizeof(struct zone): %v", err)
	}
	areaF, err := k.Types.FieldOf("struct zone", "free_area")
	if err != nil {
		return nil, err
	}
	asize, err := k.Types.Size("struct free_area")
	if err != nil || asize <= 0 {
		return nil, fmt.Errorf("sizeof(struct free_area): %v", err)
	}
	listF, err := k.Types.FieldOf("struct free_area", "free_list")
	if err != nil {
		return nil, err
	}
	nrFree, _ := k.EnumValue("enum zone_stat_item", "NR_FREE_PAGES")
	statOff, statErr := k.off("struct zone", "vm_stat")
	m, _ := k.memMap()
	orders := int(areaF.Size / asize)
	types := int(listF.Size / int64(2*k.PtrSize))
	var out []Zone
	var errs []error
	for i := 0; i < int(zonesF.Size/zsize); i++ {
		z := Zone{Addr: pgdat + uint64(zonesF.Offset) + uint64(i)*uint64(zsize), Index: i}
		if np, err := k.field(z.Addr, "struct zone", "name"); err == nil {
			z.Name, _ = k.ReadString(np, 32)
		}
		z.Spanned, _ = k.field(z.Addr, "struct zone", "spanned_pages")
		z.StartPFN, _ = k.field(z.Addr, "struct zone", "zone_start_pfn")
		if statErr == nil {
			z.FreePages, _ = k.ReadPtr(z.Addr + uint64(statOff) + uint64(nrFree)*uint64(k.PtrSize))
		}
		if z.Spanned > 0 && m != nil {
			z.MemMap, _ = m.page(z.StartPFN)
		}
		if z.Spanned > 0 {
			for o := 0; o < orders; o++ {
				for t := 0; t < types; t++ {
					head := z.Addr + uint64(areaF.Offset) + uint64(o)*uint64(asize) + uint64(listF.Offset) + uint64(t*2*k.PtrSize)
					links, err := k.walkList(head)
					if err != nil {
						errs = append(errs, fmt.Errorf("zone %s order %d type %d: %w", z.Name, o, t, err))
					}
					if len(links) > maxFreeBlocks {
						links = links[:maxFreeBlocks]
					}
					z.Areas = append(z.Areas, FreeList{Order: o, Type: t, Addr: head, Blocks: uint64(len(links))})
				}
			}
		}
		out = append(out, z)
	}
	return out, errors.Join(errs...)
}
