package kernel

import (
	"fmt"
	"sort"
)

// VMA is one struct vm_area_struct of a task's mm.
type VMA struct {
	Addr       uint64
	Start, End uint64
	Flags      uint64
	File       string // the mapped file's path, "" for anonymous memory
}

// VMAs walks a task's mm->mm_mt, the maple tree that holds its VMAs
// since 6.1 (lib/maple_tree.c), with MapleTree and returns them by
// address. Each entry that points at a vm_area_struct whose vm_mm is
// this mm is a VMA: the check keeps a corrupt node's stray pointer from
// being taken for one.
func (k *Kernel) VMAs(t Task) ([]VMA, error) {
	if t.MM == 0 {
		return nil, nil
	}
	mtOff, err := k.off("struct mm_struct", "mm_mt")
	if err != nil {
		return nil, fmt.Errorf("mm_struct.mm_mt (a kernel before 6.1 keeps VMAs in a list and rbtree, not read here): %w", err)
	}
	l, err := k.MapleLayout()
	if err != nil {
		return nil, err
	}
	entries, walkErr := k.MapleTree(t.MM+uint64(mtOff), false, l, MaxTreeEntries)
	var vmas []VMA
	for _, e := range entries {
		if v, ok := k.vma(e.Entry, t.MM); ok {
			vmas = append(vmas, v)
		}
	}
	sort.Slice(vmas, func(i, j int) bool { return vmas[i].Start < vmas[j].Start })
	if walkErr != nil {
		return vmas, fmt.Errorf("mm %#x: %w", t.MM, walkErr)
	}
	return vmas, nil
}

// vma reads a vm_area_struct if it belongs to mm.
func (k *Kernel) vma(a, mm uint64) (VMA, bool) {
	const vs = "struct vm_area_struct"
	if m, err := k.field(a, vs, "vm_mm"); err != nil || m != mm {
		return VMA{}, false
	}
	v := VMA{Addr: a}
	v.Start, _ = k.field(a, vs, "vm_start")
	v.End, _ = k.field(a, vs, "vm_end")
	v.Flags, _ = k.field(a, vs, "vm_flags")
	if file, err := k.field(a, vs, "vm_file"); err == nil && file != 0 {
		if off, err := k.off("struct file", "f_path"); err == nil {
			v.File = k.pathAt(file + uint64(off))
		}
	}
	return v, true
}
