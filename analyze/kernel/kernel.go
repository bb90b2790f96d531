package kernel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/kdumpkit/kdumpkit/analyze/arch"
	"github.com/kdumpkit/kdumpkit/analyze/symbols"
	"github.com/kdumpkit/kdumpkit/analyze/types"
)

// Sentinel errors of this package.
var (
	// ErrNoTypes means a helper needs DWARF and the vmlinux has none.
	ErrNoTypes = errors.New("this needs DWARF type information")
	// ErrLoop means a kernel list revisits a node or exceeds the limit.
	ErrLoop = errors.New("kernel list loops or is too long")
	// ErrNoPanic means no CPU is recorded as the panicking one.
	ErrNoPanic = errors.New("no panic task found")
	// ErrNoFrames means the dump's architecture has no stack-frame
	// conventions (arch.Frames) yet, so no backtrace.
	ErrNoFrames = errors.New("no backtrace support for this architecture")
	// ErrMachineMismatch means the vmlinux was built for another
	// architecture than the dump's.
	ErrMachineMismatch = errors.New("vmlinux and vmcore are for different machines")
)

// Memory reads the dumped kernel's virtual address space.
type Memory interface {
	ReadVirt(addr uint64, buf []byte) error
}

// CPUState is what the dump recorded for one CPU at crash time (its
// NT_PRSTATUS note): the pid running there and its registers.
type CPUState struct {
	CPU  int
	PID  int
	Regs []uint64 // in the order of the arch's RegisterSet
}

// Kernel ties a dump's memory to the vmlinux that describes it.
type Kernel struct {
	Mem     Memory
	Syms    *symbols.Table
	Types   *types.Types // nil when the vmlinux has no DWARF
	Order   binary.ByteOrder
	PtrSize int
	CPUs    []CPUState
	// Arch is the dump's architecture; nil leaves backtraces out.
	Arch arch.Arch
	// VMCOREINFO is the dump's note as key=value pairs (nil: none).
	VMCOREINFO map[string]string

	mu    sync.Mutex
	tasks []Task
	warns []error
}

// New returns a Kernel; ptrSize is 4 or 8.
func New(mem Memory, syms *symbols.Table, ty *types.Types, bo binary.ByteOrder, ptrSize int, cpus []CPUState) *Kernel {
	return &Kernel{Mem: mem, Syms: syms, Types: ty, Order: bo, PtrSize: ptrSize, CPUs: cpus}
}

// off returns the offset of a member path in a struct, cached.
func (k *Kernel) off(typ, path string) (int64, error) {
	if k.Types == nil {
		return 0, fmt.Errorf("offset of %s.%s: %w", typ, path, ErrNoTypes)
	}
	return k.Types.Offset(typ, path)
}

// ReadUint reads an unsigned integer of size bytes at addr.
func (k *Kernel) ReadUint(addr uint64, size int) (uint64, error) {
	var buf [8]byte
	if size <= 0 || size > 8 {
		return 0, fmt.Errorf("read of %d bytes at %#x: bad size", size, addr)
	}
	if err := k.Mem.ReadVirt(addr, buf[:size]); err != nil {
		return 0, err
	}
	return types.Uint(buf[:size], int64(size), k.Order), nil
}

// Uint decodes an integer of size bytes (1, 2, 4 or 8) in the dump's
// byte order.
func (k *Kernel) Uint(b []byte, size int) uint64 { return types.Uint(b, int64(size), k.Order) }

// ReadPtr reads a pointer-sized value at addr.
func (k *Kernel) ReadPtr(addr uint64) (uint64, error) { return k.ReadUint(addr, k.PtrSize) }

// field reads the integer member path of struct typ at base; its size comes
// from DWARF.
func (k *Kernel) field(base uint64, typ, path string) (uint64, error) {
	if k.Types == nil {
		return 0, fmt.Errorf("%s.%s: %w", typ, path, ErrNoTypes)
	}
	f, err := k.Types.FieldOf(typ, path)
	if err != nil {
		return 0, err
	}
	size := f.Size
	if size > 8 {
		size = int64(k.PtrSize) // e.g. an atomic_t wrapper: read its first word
	}
	v, err := k.ReadUint(base+uint64(f.Offset), int(size))
	if err != nil {
		return 0, fmt.Errorf("reading %s.%s at %#x: %w", typ, path, base+uint64(f.Offset), err)
	}
	if f.BitSize > 0 {
		v = (v >> uint(f.BitOffset)) & (1<<uint(f.BitSize) - 1)
	}
	return v, nil
}

// symbol returns the address of a kernel symbol.
func (k *Kernel) symbol(name string) (uint64, error) {
	if k.Syms == nil {
		return 0, fmt.Errorf("symbol %s: %w", name, symbols.ErrNotFound)
	}
	return k.Syms.Addr(name)
}

// ReadString reads a NUL-terminated string of at most n bytes.
func (k *Kernel) ReadString(addr uint64, n int) (string, error) {
	buf := make([]byte, n)
	if err := k.Mem.ReadVirt(addr, buf); err != nil {
		return "", err
	}
	for i, c := range buf {
		if c == 0 {
			return string(buf[:i]), nil
		}
	}
	return string(buf), nil
}
