package kernel

import (
	"fmt"
	"sort"
)

// VmapArea is one busy struct vmap_area: a range of the vmalloc space in
// use, and the struct vm_struct of a vmalloc() or ioremap() (0 for
// vm_map_ram's areas).
type VmapArea struct {
	Addr       uint64
	VM         uint64
	Start, End uint64
}

// VmapAreas returns the vmalloc space in use by address: 6.1's
// vmap_area_list (mm/vmalloc.c keeps it sorted), or, from 6.9 on, the
// busy list of each of the nr_vmap_nodes struct vmap_node.
func (k *Kernel) VmapAreas() ([]VmapArea, error) {
	if k.Types == nil {
		return nil, fmt.Errorf("vmap areas: %w", ErrNoTypes)
	}
	listOff, err := k.off("struct vmap_area", "list")
	if err != nil {
		return nil, err
	}
	var heads []uint64
	if h, err := k.symbol("vmap_area_list"); err == nil {
		heads = append(heads, h)
	} else {
		nodesPtr, err1 := k.symbol("vmap_nodes")
		nrSym, err2 := k.symbol("nr_vmap_nodes")
		busy, err3 := k.off("struct vmap_node", "busy.head")
		size, err4 := k.Types.Size("struct vmap_node")
		if e := firstErrOf(err1, err2, err3, err4); e != nil {
			return nil, fmt.Errorf("neither vmap_area_list nor vmap_nodes: %w", e)
		}
		nodes, err := k.ReadPtr(nodesPtr)
		if err != nil {
			return nil, fmt.Errorf("vmap_nodes: %w", err)
		}
		nr, err := k.ReadUint(nrSym, 4)
		if err != nil || nr == 0 || nr > 1<<12 {
			return nil, fmt.Errorf("nr_vmap_nodes %d: %v", nr, err)
		}
		for i := uint64(0); i < nr; i++ {
			heads = append(heads, nodes+i*uint64(size)+uint64(busy))
		}
	}
	var out []VmapArea
	var walkErr error
	for _, h := range heads {
		links, err := k.walkList(h)
		if err != nil && walkErr == nil {
			walkErr = err
		}
		for _, l := range links {
			va := VmapArea{Addr: l - uint64(listOff)}
			va.Start, _ = k.field(va.Addr, "struct vmap_area", "va_start")
			va.End, _ = k.field(va.Addr, "struct vmap_area", "va_end")
			va.VM, _ = k.field(va.Addr, "struct vmap_area", "vm")
			out = append(out, va)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start < out[j].Start })
	return out, walkErr
}

func firstErrOf(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}
