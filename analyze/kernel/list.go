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
