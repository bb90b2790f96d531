package arch

import (
	"encoding/binary"
	"fmt"
)

// walk4K follows a 4 KiB-granule radix page table of 64-bit entries, the
// shape x86_64 and arm64 share: levels of 512 entries indexed by 9 bits of
// the address above 12 + 9·(depth−1). leaf reports an entry that maps a
// page or a block at its level; next gives the next table's address.
type walk4K struct {
	mem    PhysReader
	order  binary.ByteOrder
	root   uint64
	levels int
	// present, leaf and addr interpret an entry at a level (0 = top).
	present func(e uint64, level int) bool
	leaf    func(e uint64, level int) bool
	addr    func(e uint64) uint64
}

func (w *walk4K) translate(va uint64) (uint64, error) {
	table := w.root
	for level := 0; level < w.levels; level++ {
		shift := uint(12 + 9*(w.levels-1-level))
		var b [8]byte
		if err := w.mem.ReadPhys(b[:], table+(va>>shift&0x1ff)*8); err != nil {
			return 0, fmt.Errorf("level-%d entry of %#x: %w", level, va, err)
		}
		e := w.order.Uint64(b[:])
		if !w.present(e, level) {
			return 0, fmt.Errorf("%w: %#x (level-%d entry %#x)", ErrNotMapped, va, level, e)
		}
		if level == w.levels-1 || w.leaf(e, level) {
			size := uint64(1) << shift
			return w.addr(e)&^(size-1) | va&(size-1), nil
		}
		table = w.addr(e)
	}
	return 0, fmt.Errorf("%w: %#x", ErrNotMapped, va)
}
