package kernel

import (
	"errors"
	"fmt"
)

// ErrNoTranslation means the dump reader cannot translate addresses or
// read physical memory (a test's flat memory).
var ErrNoTranslation = errors.New("address translation not available for this dump")

// translator is what a dump reader offers beyond virtual reads (Vmcore
// does): the page-table walk, physical reads and the linear map back.
type translator interface {
	Translate(va uint64) (uint64, error)
	ReadPhys(buf []byte, pa uint64) error
	PhysToVirt(pa uint64) (uint64, error)
}

// VirtToPhys translates a kernel virtual address as the dumped MMU did
// (the linear map, or a page-table walk for vmalloc and stacks).
func (k *Kernel) VirtToPhys(va uint64) (uint64, error) {
	t, ok := k.Mem.(translator)
	if !ok {
		return 0, ErrNoTranslation
	}
	return t.Translate(va)
}

// PhysToVirt is the linear-map address of a physical one: the kernel
// address the dump's PT_LOAD covering pa gives it.
func (k *Kernel) PhysToVirt(pa uint64) (uint64, error) {
	t, ok := k.Mem.(translator)
	if !ok {
		return 0, ErrNoTranslation
	}
	return t.PhysToVirt(pa)
}

// ReadPhys reads physical memory.
func (k *Kernel) ReadPhys(pa uint64, buf []byte) error {
	t, ok := k.Mem.(translator)
	if !ok {
		return ErrNoTranslation
	}
	return t.ReadPhys(buf, pa)
}

// Translate is the Vmcore's page-table walk (arch.Memory's translator).
func (v *Vmcore) Translate(va uint64) (uint64, error) { return v.Mem.T.Translate(va) }

// ReadPhys reads the dump's physical memory.
func (v *Vmcore) ReadPhys(buf []byte, pa uint64) error { return v.File.ReadPhys(buf, pa) }

// PhysToVirt maps pa through the PT_LOAD that covers it; kdump's
// PT_LOADs carry the linear map's virtual address of each RAM range.
func (v *Vmcore) PhysToVirt(pa uint64) (uint64, error) {
	for _, s := range v.File.Loads {
		if pa >= s.Paddr && pa-s.Paddr < s.Memsz && s.Vaddr != 0 {
			return (s.Vaddr + (pa - s.Paddr)) & mask(v.PtrSize()), nil
		}
	}
	return 0, fmt.Errorf("physical %#x: no PT_LOAD of the dump maps it", pa)
}

func mask(ptrSize int) uint64 {
	if ptrSize == 4 {
		return 0xffffffff
	}
	return ^uint64(0)
}

// linearBase is implemented by dump readers that know the linear map's
// start (Vmcore: its PT_LOADs).
type linearBase interface {
	LinearBase() (uint64, error)
}

// KernelVirtualBase is PAGE_OFFSET, where the linear map starts: the
// virtual address of the lowest RAM the dump holds.
func (k *Kernel) KernelVirtualBase() (uint64, error) {
	l, ok := k.Mem.(linearBase)
	if !ok {
		return 0, ErrNoTranslation
	}
	return l.LinearBase()
}

// LinearBase is the virtual address of the lowest physical address a
// PT_LOAD with a linear-map address covers.
func (v *Vmcore) LinearBase() (uint64, error) {
	best, found := uint64(0), false
	var va uint64
	for _, s := range v.File.Loads {
		if s.Vaddr == 0 || s.Memsz == 0 {
			continue
		}
		if !found || s.Paddr < best {
			best, va, found = s.Paddr, s.Vaddr, true
		}
	}
	if !found {
		return 0, fmt.Errorf("%s: no PT_LOAD with a virtual address", v.Path())
	}
	return va, nil
}

// Range is a stretch of the linear map: Virt maps to Phys for Len bytes.
type Range struct{ Virt, Phys, Len uint64 }

// linearRanges is implemented by dump readers that know which RAM they
// hold (Vmcore: its PT_LOADs with linear-map addresses).
type linearRanges interface {
	LinearRanges() []Range
}

// KernelRanges are the linear-map ranges the dump holds, for searches
// over kernel memory; nil when the reader cannot say.
func (k *Kernel) KernelRanges() []Range {
	if l, ok := k.Mem.(linearRanges); ok {
		return l.LinearRanges()
	}
	return nil
}

// LinearRanges are the PT_LOADs with a linear-map address, as much of
// each as the file holds.
func (v *Vmcore) LinearRanges() []Range {
	var out []Range
	for _, s := range v.File.Loads {
		if s.Vaddr == 0 || s.Filesz == 0 {
			continue
		}
		out = append(out, Range{Virt: s.Vaddr, Phys: s.Paddr, Len: s.Filesz - min(s.Lost, s.Filesz)})
	}
	return out
}
