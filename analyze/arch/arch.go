package arch

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/kdumpkit/kdumpkit/analyze/dump"
	"github.com/kdumpkit/kdumpkit/analyze/vmcoreinfo"
)

// Sentinel errors.
var (
	// ErrUnsupported means the dump's machine is not one we read.
	ErrUnsupported = errors.New("unsupported architecture")
	// ErrNotMapped means the page tables do not map a virtual address.
	ErrNotMapped = errors.New("virtual address not mapped")
)

// PhysReader reads physical memory (a *dump.File).
type PhysReader interface {
	ReadPhys(p []byte, addr uint64) error
}

// Translator maps a kernel virtual address to a physical one.
type Translator interface {
	Translate(va uint64) (uint64, error)
}

// Regs is one CPU's state from an NT_PRSTATUS note.
type Regs struct {
	PID  int
	Regs []uint64 // in the arch's pt_regs order
	PC   uint64
	SP   uint64
}

// Arch is one architecture's part of reading a dump.
type Arch interface {
	// Name is the kernel's ARCH= name.
	Name() string
	PtrSize() int
	// NewTranslator builds address translation for a dump.
	NewTranslator(mem PhysReader, info *vmcoreinfo.Info, loads []dump.Segment) (Translator, error)
	// Registers is the layout of pt_regs and of NT_PRSTATUS's registers.
	Registers() RegisterSet
}

// infoTuner is implemented by an Arch whose conventions depend on the
// dump's VMCOREINFO (arm64: the PAC mask).
type infoTuner interface {
	forInfo(info *vmcoreinfo.Info) Arch
}

// WithInfo returns a as a dump's VMCOREINFO tunes it (NewMemory does
// this for every dump); an Arch that needs nothing from it is returned as
// it is.
func WithInfo(a Arch, info *vmcoreinfo.Info) Arch {
	if t, ok := a.(infoTuner); ok {
		return t.forInfo(info)
	}
	return a
}

// ForMachine returns the Arch for an ELF machine, with the conventions it
// has before a dump's VMCOREINFO tunes it (NewMemory).
func ForMachine(m elf.Machine) (Arch, error) {
	switch m {
	case elf.EM_ARM:
		return arm{}, nil
	case elf.EM_AARCH64:
		return arm64{}, nil
	case elf.EM_X86_64:
		return x86_64{}, nil
	}
	return nil, fmt.Errorf("%w: ELF machine %v (want ARM, AArch64 or x86-64)", ErrUnsupported, m)
}

// loadsTranslator maps through the PT_LOADs' p_vaddr, as the kernel (or
// kexec) wrote them for the linear map.
type loadsTranslator []dump.Segment

func (l loadsTranslator) Translate(va uint64) (uint64, bool) {
	for _, s := range l {
		if s.Vaddr != 0 && va >= s.Vaddr && va-s.Vaddr < s.Memsz {
			return s.Paddr + (va - s.Vaddr), true
		}
	}
	return 0, false
}

// Memory reads kernel virtual memory of a dump.
type Memory struct {
	Phys  PhysReader
	T     Translator
	Order binary.ByteOrder
	Arch  Arch
	Info  *vmcoreinfo.Info
}

// NewMemory sets up virtual reads of d.
func NewMemory(d *dump.File) (*Memory, error) {
	a, err := ForMachine(d.Machine)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", d.Name, err)
	}
	raw, ok := d.VMCOREINFO()
	if !ok {
		return nil, fmt.Errorf("%s: no VMCOREINFO note: %w", d.Name, vmcoreinfo.ErrMissing)
	}
	info, err := vmcoreinfo.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", d.Name, err)
	}
	a = WithInfo(a, info)
	t, err := a.NewTranslator(d, info, d.Loads)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", d.Name, err)
	}
	return &Memory{Phys: d, T: t, Order: d.ByteOrder, Arch: a, Info: info}, nil
}

// ReadVirt fills buf from kernel virtual address addr, page by page.
func (m *Memory) ReadVirt(addr uint64, buf []byte) error {
	for len(buf) > 0 {
		n := min(len(buf), int(0x1000-addr&0xfff))
		pa, err := m.T.Translate(addr)
		if err != nil {
			return fmt.Errorf("reading %#x: %w", addr, err)
		}
		if err := m.Phys.ReadPhys(buf[:n], pa); err != nil {
			return fmt.Errorf("reading %#x (physical %#x): %w", addr, pa, err)
		}
		addr += uint64(n)
		buf = buf[n:]
	}
	return nil
}

// ReadU32 reads a 32-bit value.
func (m *Memory) ReadU32(addr uint64) (uint32, error) {
	var b [4]byte
	err := m.ReadVirt(addr, b[:])
	return m.Order.Uint32(b[:]), err
}

// ReadU64 reads a 64-bit value.
func (m *Memory) ReadU64(addr uint64) (uint64, error) {
	var b [8]byte
	err := m.ReadVirt(addr, b[:])
	return m.Order.Uint64(b[:]), err
}

// ReadPtr reads a pointer or unsigned long of the dump's width.
func (m *Memory) ReadPtr(addr uint64) (uint64, error) {
	if m.Arch.PtrSize() == 4 {
		v, err := m.ReadU32(addr)
		return uint64(v), err
	}
	return m.ReadU64(addr)
}

// ReadCString reads a NUL-terminated string of at most max bytes.
func (m *Memory) ReadCString(addr uint64, max int) (string, error) {
	buf := make([]byte, max)
	if err := m.ReadVirt(addr, buf); err != nil {
		return "", err
	}
	if i := bytes.IndexByte(buf, 0); i >= 0 {
		buf = buf[:i]
	}
	return string(buf), nil
}
