package kernel

import (
	"fmt"
	"math/bits"
)

// MaxTreeEntries bounds any tree walk (rbtree, XArray, maple tree): a
// corrupt tree that links back into itself must end, and a bigger one is
// taken as corrupt too.
const MaxTreeEntries = 1 << 20

// TreeEntry is one entry of a walked tree: an rb_node, or an XArray or
// maple tree slot's content.
type TreeEntry struct {
	// Entry is the rb_node's address, or the slot's value (a pointer,
	// or an XArray value entry with bit 0 set).
	Entry uint64
	// Index is the entry's index in an XArray, the first index of its
	// range in a maple tree (Last the last); 0 for an rbtree.
	Index, Last uint64
	// Pos says where the entry sits, as crash's tree -p does: "root/l/r"
	// for an rb_node, "root/3/17" (slot offsets down from the root) for
	// an XArray or maple tree.
	Pos string
}

// RBTree walks a red-black tree from the rb_node at top (what an
// rb_root's first word holds; 0 is an empty tree): in order (left
// subtree, node, right) when linear, else node first as crash's tree
// does by default. struct rb_node is {__rb_parent_color, rb_right,
// rb_left} in every kernel. A node met twice, or more than max nodes,
// ends the walk with ErrLoop naming the node; an unreadable child ends it
// with the entries found so far.
func (k *Kernel) RBTree(top uint64, linear bool, max int) ([]TreeEntry, error) {
	right, left := uint64(k.PtrSize), 2*uint64(k.PtrSize)
	var out []TreeEntry
	seen := map[uint64]bool{}
	type item struct {
		node uint64
		pos  string
		// visited: its left subtree is already out (linear order).
		visited bool
	}
	stack := []item{{node: top, pos: "root"}}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if it.node == 0 {
			continue
		}
		if !it.visited {
			if seen[it.node] {
				return out, fmt.Errorf("rb tree: node %#x met twice (at %s): %w", it.node, it.pos, ErrLoop)
			}
			if len(seen) >= max {
				return out, fmt.Errorf("rb tree: more than %d nodes (at node %#x): %w", max, it.node, ErrLoop)
			}
			seen[it.node] = true
		}
		l, errL := k.ReadPtr(it.node + left)
		r, errR := k.ReadPtr(it.node + right)
		if errL != nil || errR != nil {
			return out, fmt.Errorf("rb tree: node %#x (at %s) unreadable: %w", it.node, it.pos, firstErr(errL, errR))
		}
		switch {
		case !linear:
			out = append(out, TreeEntry{Entry: it.node, Pos: it.pos})
			stack = append(stack, item{node: r, pos: it.pos + "/r"}, item{node: l, pos: it.pos + "/l"})
		case it.visited:
			out = append(out, TreeEntry{Entry: it.node, Pos: it.pos})
			stack = append(stack, item{node: r, pos: it.pos + "/r"})
		default:
			stack = append(stack, item{node: it.node, pos: it.pos, visited: true}, item{node: l, pos: it.pos + "/l"})
		}
	}
	return out, nil
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// XArrayLayout is what an XArray walk needs of struct xarray and struct
// xa_node (include/linux/xarray.h; a radix_tree_root is an xarray since
// 4.20): where the head and a node's shift and slots are, and how many
// slots a node has (XA_CHUNK_SIZE, 64 or 16).
type XArrayLayout struct {
	Head, Shift, Slots int64
	NSlots             int
}

// XArrayLayout reads the layout from DWARF.
func (k *Kernel) XArrayLayout() (XArrayLayout, error) {
	var l XArrayLayout
	var err error
	if l.Head, err = k.off("struct xarray", "xa_head"); err != nil {
		return l, fmt.Errorf("xarray facility: %w", err)
	}
	if l.Shift, err = k.off("struct xa_node", "shift"); err != nil {
		return l, fmt.Errorf("xarray facility: %w", err)
	}
	f, err := k.Types.FieldOf("struct xa_node", "slots")
	if err != nil {
		return l, fmt.Errorf("xarray facility: %w", err)
	}
	l.Slots, l.NSlots = f.Offset, int(f.Size)/k.PtrSize
	if l.NSlots < 2 || l.NSlots&(l.NSlots-1) != 0 {
		return l, fmt.Errorf("xa_node.slots has %d entries, not a power of two", l.NSlots)
	}
	return l, nil
}

// xa_is_node: an internal entry (low bits 10) above 4096; below are the
// retry, zero and sibling entries.
func xaIsNode(e uint64) bool     { return e&3 == 2 && e > 4096 }
func xaIsInternal(e uint64) bool { return e&3 == 2 }

// XArray walks the XArray whose struct xarray is at root (node false) or
// the tree below the xa_node at root (node true, crash's -N) and returns
// its entries by index: every non-NULL slot that is not an internal
// entry (value entries, bit 0 set, are returned as they are). A node's
// children must have its shift less one chunk; a node met twice, a shift
// out of order or more than max entries end the walk with an error that
// names the node.
func (k *Kernel) XArray(root uint64, node bool, l XArrayLayout, max int) ([]TreeEntry, error) {
	if l.NSlots < 2 || l.NSlots&(l.NSlots-1) != 0 {
		return nil, fmt.Errorf("xarray %#x: an xa_node of %d slots is not an XArray layout", root, l.NSlots)
	}
	head := root | 2
	if !node {
		var err error
		if head, err = k.ReadPtr(root + uint64(l.Head)); err != nil {
			return nil, fmt.Errorf("xarray %#x: reading xa_head: %w", root, err)
		}
	}
	switch {
	case node && !xaIsNode(head):
		return nil, fmt.Errorf("xa_node %#x: not a node address", root)
	case head == 0:
		return nil, nil
	case !xaIsNode(head):
		if xaIsInternal(head) {
			return nil, nil
		}
		return []TreeEntry{{Entry: head, Pos: "direct"}}, nil
	}
	shift, err := k.ReadUint((head&^3)+uint64(l.Shift), 1)
	if err != nil {
		return nil, fmt.Errorf("xarray node %#x: reading shift: %w", head&^3, err)
	}
	w := xaWalk{k: k, l: l, max: max, seen: map[uint64]bool{}, chunk: uint64(bits.TrailingZeros(uint(l.NSlots)))}
	err = w.node(head&^3, shift, 0, "root")
	return w.out, err
}

type xaWalk struct {
	k     *Kernel
	l     XArrayLayout
	max   int
	chunk uint64 // XA_CHUNK_SHIFT
	seen  map[uint64]bool
	out   []TreeEntry
}

func (w *xaWalk) node(addr, shift, base uint64, pos string) error {
	if w.seen[addr] {
		return fmt.Errorf("xarray node %#x met twice (at %s): %w", addr, pos, ErrLoop)
	}
	w.seen[addr] = true
	if s, err := w.k.ReadUint(addr+uint64(w.l.Shift), 1); err != nil {
		return fmt.Errorf("xarray node %#x: reading shift: %w", addr, err)
	} else if s != shift || shift%w.chunk != 0 || shift >= uint64(8*w.k.PtrSize) {
		return fmt.Errorf("xarray node %#x (at %s): shift %d (its parent's says %d) is no node's", addr, pos, s, shift)
	}
	for off := 0; off < w.l.NSlots; off++ {
		e, err := w.k.ReadPtr(addr + uint64(w.l.Slots) + uint64(off*w.k.PtrSize))
		if err != nil {
			return fmt.Errorf("xarray node %#x slot %d: %w", addr, off, err)
		}
		index := base | uint64(off)<<shift
		switch {
		case e == 0:
		case uint64(off)<<shift>>shift != uint64(off) || index&w.k.Mask() != index:
			return fmt.Errorf("xarray node %#x (at %s) slot %d: past the largest index", addr, pos, off)
		case xaIsNode(e):
			if shift < w.chunk {
				return fmt.Errorf("xarray node %#x (at %s) slot %d: a node below shift %d", addr, pos, off, shift)
			}
			if err := w.node(e&^3, shift-w.chunk, index, fmt.Sprintf("%s/%d", pos, off)); err != nil {
				return err
			}
		case xaIsInternal(e):
			// a sibling, retry or zero entry: not an entry of its own
		default:
			if len(w.out) >= w.max {
				return fmt.Errorf("xarray: more than %d entries (at node %#x): %w", w.max, addr, ErrLoop)
			}
			w.out = append(w.out, TreeEntry{Entry: e, Index: index, Last: index, Pos: fmt.Sprintf("%s/%d", pos, off)})
		}
	}
	return nil
}

// MapleLayout is what a maple tree walk needs (include/linux/
// maple_tree.h, 6.1): the root pointer's offset in struct maple_tree and
// the pivot and slot arrays of the two node shapes, maple_range_64
// (leaves and plain internal nodes) and maple_arange_64 (internal nodes
// that track gaps).
type MapleLayout struct {
	Root   int64
	Range  mapleNodeLayout
	Arange mapleNodeLayout
}

type mapleNodeLayout struct {
	Pivot, Slot    int64
	NPivot, NSlots int
}

// MapleLayout reads the layout from DWARF.
func (k *Kernel) MapleLayout() (MapleLayout, error) {
	var l MapleLayout
	var err error
	if l.Root, err = k.off("struct maple_tree", "ma_root"); err != nil {
		return l, fmt.Errorf("maple tree (6.1+): %w", err)
	}
	for _, n := range []struct {
		typ string
		to  *mapleNodeLayout
	}{{"struct maple_range_64", &l.Range}, {"struct maple_arange_64", &l.Arange}} {
		p, err := k.Types.FieldOf(n.typ, "pivot")
		if err != nil {
			return l, fmt.Errorf("maple tree: %w", err)
		}
		s, err := k.Types.FieldOf(n.typ, "slot")
		if err != nil {
			return l, fmt.Errorf("maple tree: %w", err)
		}
		*n.to = mapleNodeLayout{Pivot: p.Offset, Slot: s.Offset, NPivot: int(p.Size) / k.PtrSize, NSlots: int(s.Size) / k.PtrSize}
		if n.to.NSlots != n.to.NPivot+1 {
			return l, fmt.Errorf("%s: %d slots for %d pivots", n.typ, n.to.NSlots, n.to.NPivot)
		}
	}
	return l, nil
}

// maple node pointers (lib/maple_tree.c, 6.1).
const (
	mapleNodeMask  = 255 // MAPLE_NODE_MASK: a node pointer's low bits
	mapleTypeShift = 3   // MAPLE_NODE_TYPE_SHIFT
	mapleTypeMask  = 0x0f
	mapleLeaf64    = 1 // enum maple_type: maple_leaf_64
	mapleRange64   = 2 // maple_range_64 (internal)
	mapleArange64  = 3 // maple_arange_64 (internal, with gaps)
	mapleMaxDepth  = 32
)

// MapleTree walks the maple tree whose struct maple_tree is at root
// (node false), or the tree below the encoded node pointer root (node
// true, crash's -N), and returns its entries in index order with the
// range each covers. A node's slots are read up to its data end: the
// last pivot that is not 0 below the node's max (the rest of the node,
// and the metadata a node that is not full keeps in its last slot, is
// not data). A node met twice, a tree deeper than 32 or more than max
// entries end the walk with an error naming the node.
func (k *Kernel) MapleTree(root uint64, node bool, l MapleLayout, max int) ([]TreeEntry, error) {
	top := root
	if !node {
		var err error
		if top, err = k.ReadPtr(root + uint64(l.Root)); err != nil {
			return nil, fmt.Errorf("maple tree %#x: reading ma_root: %w", root, err)
		}
	}
	w := mapleWalk{k: k, l: l, max: max, seen: map[uint64]bool{}}
	if node && !isMapleNode(top) {
		return nil, fmt.Errorf("%#x is not an encoded maple node pointer (node|type<<3|2)", top)
	}
	if !isMapleNode(top) {
		if top == 0 || xaIsInternal(top) {
			return nil, nil
		}
		// A tree of one entry at index 0 keeps it in the root.
		return []TreeEntry{{Entry: top, Pos: "direct"}}, nil
	}
	err := w.node(top, 0, k.Mask(), 0, "root")
	return w.out, err
}

func isMapleNode(e uint64) bool { return e&3 == 2 && e > 4096 }

// isMapleChild: a child in an internal node's slot. lib/maple_tree.c's
// mt_mk_node (6.1 on) encodes it as node | type<<3 | MAPLE_ENODE_NULL
// (bit 2), as the arm64 dump's sparse_irqs shows (…60c: a leaf); only
// the root pointer carries MAPLE_ROOT_NODE (bit 1, an internal entry),
// which is accepted here too.
func isMapleChild(e uint64) bool { return isMapleNode(e) || (e&7 == 4 && e > 4096) }

type mapleWalk struct {
	k    *Kernel
	l    MapleLayout
	max  int
	seen map[uint64]bool
	out  []TreeEntry
}

// node reads one node covering indices [min, max].
func (w *mapleWalk) node(e, min, max uint64, depth int, pos string) error {
	addr := e &^ mapleNodeMask
	if depth > mapleMaxDepth {
		return fmt.Errorf("maple node %#x (at %s): deeper than %d: %w", addr, pos, mapleMaxDepth, ErrLoop)
	}
	if w.seen[addr] {
		return fmt.Errorf("maple node %#x met twice (at %s): %w", addr, pos, ErrLoop)
	}
	w.seen[addr] = true
	typ := (e >> mapleTypeShift) & mapleTypeMask
	nl := w.l.Range
	switch typ {
	case mapleArange64:
		nl = w.l.Arange
	case mapleLeaf64, mapleRange64:
	default:
		return fmt.Errorf("maple node %#x (at %s): type %d is not one this walk reads", addr, pos, typ)
	}
	lo := min
	for i := 0; i < nl.NSlots; i++ {
		hi := max
		if i < nl.NPivot {
			p, err := w.k.ReadPtr(addr + uint64(nl.Pivot) + uint64(i*w.k.PtrSize))
			if err != nil {
				return fmt.Errorf("maple node %#x pivot %d: %w", addr, i, err)
			}
			if p < lo {
				break // past the node's data end (an unused pivot is 0)
			}
			if p < max {
				hi = p
			}
		}
		s, err := w.k.ReadPtr(addr + uint64(nl.Slot) + uint64(i*w.k.PtrSize))
		if err != nil {
			return fmt.Errorf("maple node %#x slot %d: %w", addr, i, err)
		}
		here := fmt.Sprintf("%s/%d", pos, i)
		switch {
		case s == 0:
		case typ != mapleLeaf64:
			if !isMapleChild(s) {
				return fmt.Errorf("maple node %#x (at %s) slot %d: %#x is not a node", addr, pos, i, s)
			}
			if err := w.node(s, lo, hi, depth+1, here); err != nil {
				return err
			}
		case xaIsInternal(s):
			// a retry or zero entry
		default:
			if len(w.out) >= w.max {
				return fmt.Errorf("maple tree: more than %d entries (at node %#x): %w", w.max, addr, ErrLoop)
			}
			w.out = append(w.out, TreeEntry{Entry: s, Index: lo, Last: hi, Pos: here})
		}
		if hi >= max {
			break
		}
		lo = hi + 1
	}
	return nil
}
