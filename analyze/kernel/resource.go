package kernel

import "fmt"

// Resource is one struct resource (include/linux/ioport.h) of the I/O
// port or memory tree: a bus address range and who claimed it.
type Resource struct {
	Addr       uint64
	Start, End uint64
	Name       string // "" when the name pointer is NULL or unreadable
	Depth      int    // 0 for the root
}

// maxResources bounds one tree's walk.
const maxResources = 1 << 14

// Resources walks the resource tree rooted at the symbol root
// (ioport_resource or iomem_resource) depth first, each entry before its
// children, as /proc/ioports and /proc/iomem list it. A tree that loops
// or is wild ends the walk with an error naming the entry.
func (k *Kernel) Resources(root string) ([]Resource, error) {
	if k.Types == nil {
		return nil, fmt.Errorf("%s: %w", root, ErrNoTypes)
	}
	addr, err := k.symbol(root)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", root, err)
	}
	var out []Resource
	seen := map[uint64]bool{}
	var walk func(r uint64, depth int) error
	walk = func(r uint64, depth int) error {
		for r != 0 {
			if seen[r] || len(seen) >= maxResources {
				return fmt.Errorf("%s: resource tree loops or passes %d entries at %#x: %w", root, maxResources, r, ErrLoop)
			}
			seen[r] = true
			e := Resource{Addr: r, Depth: depth}
			if e.Start, err = k.field(r, "struct resource", "start"); err != nil {
				return fmt.Errorf("%s: %w", root, err)
			}
			e.End, _ = k.field(r, "struct resource", "end")
			if np, _ := k.field(r, "struct resource", "name"); np != 0 {
				e.Name = k.readName(np)
			}
			out = append(out, e)
			child, _ := k.field(r, "struct resource", "child")
			if child != 0 && child != r {
				if err := walk(child, depth+1); err != nil {
					return err
				}
			}
			if r, err = k.field(r, "struct resource", "sibling"); err != nil {
				return fmt.Errorf("%s: %w", root, err)
			}
		}
		return nil
	}
	return out, walk(addr, 0)
}

// readName reads a C string of up to 256 bytes, shorter where the page
// it starts in ends (the next one may be missing from the dump).
func (k *Kernel) readName(p uint64) string {
	if s, err := k.ReadString(p, 256); err == nil {
		return s
	}
	s, _ := k.ReadString(p, int(4096-p%4096))
	return s
}
