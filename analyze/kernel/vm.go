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

// maple tree constants (include/linux/maple_tree.h, 6.1).
const (
	mapleNodeMask   = 255 // MAPLE_NODE_MASK: a node pointer's low bits
	mapleTypeShift  = 3   // MAPLE_NODE_TYPE_SHIFT
	mapleTypeMask   = 0x0f
	mapleRange64    = 2 // enum maple_type: maple_range_64 (internal)
	mapleArange64   = 3 // maple_arange_64 (internal, with gaps)
	mapleMaxNodes   = 1 << 16
	mapleMaxDepth   = 32
	xaInternalMask  = 3
	xaInternalValue = 2
)

// VMAs walks a task's mm->mm_mt, the maple tree that holds its VMAs
// since 6.1 (lib/maple_tree.c), and returns them by address. Each slot
// of a leaf that points at a vm_area_struct whose vm_mm is this mm is a
// VMA: that check keeps a node's metadata, stored in its last slot when
// the node is not full, from being taken for one.
func (k *Kernel) VMAs(t Task) ([]VMA, error) {
	if t.MM == 0 {
		return nil, nil
	}
	rootOff, err := k.off("struct mm_struct", "mm_mt.ma_root")
	if err != nil {
		return nil, fmt.Errorf("mm_struct.mm_mt (a kernel before 6.1 keeps VMAs in a list and rbtree, not read here): %w", err)
	}
	root, err := k.ReadPtr(t.MM + uint64(rootOff))
	if err != nil {
		return nil, fmt.Errorf("mm %#x maple root: %w", t.MM, err)
	}
	w := mapleWalk{k: k, mm: t.MM, seen: map[uint64]bool{}}
	if err := w.entry(root, 0); err != nil {
		return w.vmas, err
	}
	sort.Slice(w.vmas, func(i, j int) bool { return w.vmas[i].Start < w.vmas[j].Start })
	return w.vmas, nil
}

type mapleWalk struct {
	k    *Kernel
	mm   uint64
	seen map[uint64]bool
	vmas []VMA
}

func isNode(e uint64) bool { return e&xaInternalMask == xaInternalValue && e > 4096 }

// entry handles one slot's content: a node to descend into, or a VMA.
func (w *mapleWalk) entry(e uint64, depth int) error {
	switch {
	case e == 0 || e < 4096:
		return nil
	case isNode(e):
		return w.node(e, depth)
	case e&xaInternalMask != 0:
		return nil // another internal entry (a retry, a zero entry)
	}
	return w.vma(e)
}

// node reads a maple node's slots: maple_range_64 for leaves and range
// nodes, maple_arange_64 for nodes with gaps; the slot counts come from
// the DWARF arrays.
func (w *mapleWalk) node(e uint64, depth int) error {
	if depth > mapleMaxDepth || len(w.seen) >= mapleMaxNodes {
		return fmt.Errorf("maple tree of mm %#x deeper than %d or over %d nodes: %w", w.mm, mapleMaxDepth, mapleMaxNodes, ErrLoop)
	}
	addr := e &^ mapleNodeMask
	if w.seen[addr] {
		return fmt.Errorf("maple node %#x met twice: %w", addr, ErrLoop)
	}
	w.seen[addr] = true
	typ := (e >> mapleTypeShift) & mapleTypeMask
	layout := "struct maple_range_64"
	if typ == mapleArange64 {
		layout = "struct maple_arange_64"
	}
	f, err := w.k.Types.FieldOf(layout, "slot")
	if err != nil {
		return err
	}
	n := f.Size / int64(w.k.PtrSize)
	for i := int64(0); i < n; i++ {
		s, err := w.k.ReadPtr(addr + uint64(f.Offset) + uint64(i)*uint64(w.k.PtrSize))
		if err != nil {
			return fmt.Errorf("maple node %#x slot %d: %w", addr, i, err)
		}
		if typ == mapleRange64 || typ == mapleArange64 {
			if isNode(s) {
				if err := w.node(s, depth+1); err != nil {
					return err
				}
			}
			continue
		}
		if err := w.entry(s, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// vma reads a vm_area_struct if it belongs to the walked mm.
func (w *mapleWalk) vma(a uint64) error {
	const vs = "struct vm_area_struct"
	mm, err := w.k.field(a, vs, "vm_mm")
	if err != nil || mm != w.mm {
		return nil // not a VMA of this mm: node metadata, not data
	}
	v := VMA{Addr: a}
	v.Start, _ = w.k.field(a, vs, "vm_start")
	v.End, _ = w.k.field(a, vs, "vm_end")
	v.Flags, _ = w.k.field(a, vs, "vm_flags")
	if file, err := w.k.field(a, vs, "vm_file"); err == nil && file != 0 {
		if off, err := w.k.off("struct file", "f_path"); err == nil {
			v.File = w.k.pathAt(file + uint64(off))
		}
	}
	w.vmas = append(w.vmas, v)
	return nil
}
