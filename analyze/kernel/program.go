package kernel

import (
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/kdumpkit/kdumpkit/analyze/arch"
	"github.com/kdumpkit/kdumpkit/analyze/dump"
	"github.com/kdumpkit/kdumpkit/analyze/symbols"
)

// Dump is what the analyzer needs from a vmcore reader (a *Vmcore).
type Dump interface {
	Memory
	Path() string
	Machine() elf.Machine
	ByteOrder() binary.ByteOrder
	PtrSize() int
	CPUs() []CPUState
	VMCOREINFO() map[string]string
	RAMBytes() uint64
	Arch() arch.Arch
}

// Program is one dump opened with the kernel image that describes it,
// drgn's Program: the reader, its arch and VMCOREINFO (Dump), the
// vmlinux's symbols, types and unwinder (Image), and the helpers over
// both (Kernel), whose symbols are where the crashed kernel ran them.
type Program struct {
	Dump   Dump
	Image  *Image
	Kernel *Kernel
	// Partial is set when the vmcore lacks data its headers promise.
	Partial bool
	// Unverified holds the pipeline's reasons for its UNVERIFIED marker.
	Unverified []string
	// Log reads the kernel log once (Vmcore.Printk); nil when the
	// program was not opened by Open.
	Log func() ([]LogRecord, error)
	// close releases what Open opened.
	close func() error
}

// NewProgram checks that img describes d — same machine, same BUILD-ID
// or linux_banner (checkMatch) — and ties them together. Warnings (a match
// that cannot be checked, abilities the image lacks) go to warn.
func NewProgram(img *Image, d Dump, warn func(error)) (*Program, error) {
	if img.Machine != d.Machine() {
		return nil, fmt.Errorf("%w: vmlinux %s is %v, vmcore %s is %v", ErrMachineMismatch, img.Path, img.Machine, d.Path(), d.Machine())
	}
	info := d.VMCOREINFO()
	if err := checkMatch(img, d, warn); err != nil {
		return nil, err
	}
	for _, w := range img.Warnings {
		warn(w)
	}
	k := New(d, relocate(img, info), img.Types, d.ByteOrder(), d.PtrSize(), d.CPUs())
	k.Arch, k.VMCOREINFO = d.Arch(), info
	if t, ok := k.Arch.(arch.LayoutTuner); ok && img.Types != nil {
		k.Arch = t.WithLayout(img.Types) // arm64: struct pt_regs as this kernel has it
	}
	return &Program{Dump: d, Image: img, Kernel: k}, nil
}

// relocate returns the image's symbols where a KASLR kernel ran them:
// moved by VMCOREINFO's KERNELOFFSET. Kallsyms come from the dump itself
// and are already there.
func relocate(img *Image, info map[string]string) *symbols.Table {
	if off, _ := kernelOffset(info); off != 0 && img.ELF != nil {
		return img.Syms.Relocate(off)
	}
	return img.Syms
}

// KernelOffset is the KASLR offset the crashed kernel ran at: VMCOREINFO's
// KERNELOFFSET (hex), 0 without KASLR or without the key.
func (k *Kernel) KernelOffset() (uint64, error) { return kernelOffset(k.VMCOREINFO) }

func kernelOffset(info map[string]string) (uint64, error) {
	s, ok := info["KERNELOFFSET"]
	if !ok {
		return 0, nil
	}
	off, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 64)
	if err != nil {
		return 0, fmt.Errorf("VMCOREINFO KERNELOFFSET=%q: want a hex number", s)
	}
	return off, nil
}

// Open opens the vmcore, then the vmlinux checked against it ("-" for
// none: kallsyms from the dump). Warnings go to warn as they arise;
// Close releases both files.
func Open(vmlinux, vmcore, cacheDir string, warn func(error)) (*Program, error) {
	d, warns, err := OpenVmcore(vmcore)
	if err != nil {
		return nil, err
	}
	for _, w := range warns {
		warn(w)
	}
	var img *Image
	if vmlinux == "-" {
		img, err = KallsymsImage(d)
	} else {
		img, err = LoadImage(vmlinux, cacheDir, d.Machine())
	}
	if err != nil {
		d.Close()
		return nil, err
	}
	p, err := NewProgram(img, d, warn)
	if err != nil {
		img.Close()
		d.Close()
		return nil, err
	}
	for _, w := range warns {
		p.Partial = p.Partial || errors.Is(w, dump.ErrTruncated)
	}
	p.Unverified, p.Log = d.File.Unverified, d.Printk()
	p.close = func() error { return errors.Join(img.Close(), d.Close()) }
	return p, nil
}

// Close releases the files Open opened.
func (p *Program) Close() error {
	if p.close == nil {
		return nil
	}
	return p.close()
}
