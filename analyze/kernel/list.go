package kernel

import "fmt"

// MaxListNodes bounds any kernel list walk; a dump's task list with more
// entries than this is treated as corrupt rather than walked forever.
const MaxListNodes = 1 << 20

// walkList follows list_head.next pointers from head (the address of a
// struct list_head) and returns the addresses of the member list_heads, head
// excluded. A node seen twice, a NULL or unreadable pointer ends the walk
// with the nodes found so far and an error naming the node.
func (k *Kernel) walkList(head uint64) ([]uint64, error) {
	var nodes []uint64
	seen := map[uint64]bool{head: true}
	cur := head
	for {
		next, err := k.ReadPtr(cur) // list_head.next is the first member
		if err != nil {
			if len(nodes) > 0 {
				nodes = nodes[:len(nodes)-1] // cur itself is unreadable
			}
			return nodes, fmt.Errorf("list at %#x: reading next of %#x: %w", head, cur, err)
		}
		if next == head {
			return nodes, nil
		}
		if next == 0 {
			return nodes, fmt.Errorf("list at %#x: NULL next pointer in %#x", head, cur)
		}
		if seen[next] {
			return nodes, fmt.Errorf("list at %#x: node %#x (after %#x) visited twice after %d nodes: %w", head, next, cur, len(nodes), ErrLoop)
		}
		if len(nodes) >= MaxListNodes {
			return nodes, fmt.Errorf("list at %#x: more than %d nodes: %w", head, MaxListNodes, ErrLoop)
		}
		seen[next] = true
		nodes = append(nodes, next)
		cur = next
	}
}

// ListEntries walks a list of structs linked through an embedded
// pointer pair (struct list_head, or any struct whose first word is the
// next pointer) and returns the address of each struct, as crash's list
// prints them: from the struct at start, following the pointer at
// start+offset, until the walk returns to start, meets NULL, or meets the
// head at stop (a list_head not inside any entry). reverse follows the
// second word (prev) instead. A node met twice ends the walk with
// ErrLoop naming it; at most max entries are returned.
func (k *Kernel) ListEntries(start uint64, offset int64, stop uint64, reverse bool, max int) ([]uint64, error) {
	link := uint64(offset)
	if reverse {
		link += uint64(k.PtrSize)
	}
	var out []uint64
	seen := map[uint64]bool{}
	for entry := start; ; {
		if seen[entry] {
			return out, fmt.Errorf("duplicate list entry %#x after %d entries: %w", entry, len(out), ErrLoop)
		}
		if len(out) >= max {
			return out, fmt.Errorf("more than %d entries: %w", max, ErrLoop)
		}
		seen[entry] = true
		next, err := k.ReadPtr((entry + link) & k.mask())
		if err != nil {
			return out, fmt.Errorf("reading the link of entry %#x at %#x: %w", entry, (entry+link)&k.mask(), err)
		}
		out = append(out, entry)
		if next == 0 || next == stop {
			return out, nil
		}
		entry = (next - uint64(offset)) & k.mask()
		if entry == start {
			return out, nil
		}
	}
}
