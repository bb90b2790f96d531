package kernel

import (
	"fmt"
	"math/bits"
	"strings"
)

// Taint is the kernel's tainted_mask and its letters.
type Taint struct {
	Mask uint64
	// Flags are the letters of the set bits in bit order, as crash's
	// "sys -t" prints them (kernel/panic.c's print_tainted prints a
	// column for every bit instead).
	Flags string
}

// Taint reads tainted_mask and spells its set bits with the dump's own
// taint_flags[] table (struct taint_flag, kernel/panic.c: c_true first),
// so letters added by later kernels need no table here. The table's
// length is its symbol's size over sizeof(struct taint_flag).
func (k *Kernel) Taint() (Taint, error) {
	a, err := k.symbol("tainted_mask")
	if err != nil {
		return Taint{}, err
	}
	mask, err := k.ReadPtr(a)
	if err != nil {
		return Taint{}, fmt.Errorf("tainted_mask at %#x: %w", a, err)
	}
	t := Taint{Mask: mask}
	if mask == 0 {
		return t, nil
	}
	sym, err := k.Syms.Lookup("taint_flags")
	if err != nil {
		return t, fmt.Errorf("taint_flags: %w", err)
	}
	size := uint64(3) // c_true, c_false, module (6.1); 6.12 adds a desc pointer
	if k.Types != nil {
		if n, err := k.Types.Size("struct taint_flag"); err == nil && n > 0 {
			size = uint64(n)
		}
	}
	n := sym.Size / size
	if sym.Size == 0 {
		// kallsyms give no sizes: the kernel sets only the bits its table
		// defines, so it reaches at least the highest set one.
		n = uint64(bits.Len64(mask))
	}
	if n == 0 || n > 64 {
		return t, fmt.Errorf("taint_flags: %d bytes is not a table of %d-byte entries", sym.Size, size)
	}
	var b strings.Builder
	for i := uint64(0); i < n; i++ {
		if mask&(1<<i) == 0 {
			continue
		}
		c, err := k.ReadUint(sym.Addr+i*size, 1)
		if err != nil {
			return t, fmt.Errorf("taint_flags[%d]: %w", i, err)
		}
		b.WriteByte(byte(c))
	}
	t.Flags = b.String()
	return t, nil
}
