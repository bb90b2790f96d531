package kexec

import (
	"crypto/rand"
	"debug/elf"
	"fmt"
	"io"
)

// ARM64Inputs are the files of an arm64 crash load.
type ARM64Inputs struct {
	Kernel  []byte // Image, uncompressed
	Initrd  []byte // nil for none
	DTB     []byte // the running kernel's /sys/firmware/fdt or --dtb
	Cmdline string
	// Rand gives the capture kernel's kaslr-seed and rng-seed; nil means
	// crypto/rand.
	Rand io.Reader
}

const (
	// arm64HeaderAlign is where the ELF core header starts: 64 KiB, the
	// largest page size, so a capture kernel of any page size can
	// reserve it (the kernel's own kexec_file_load aligns it the same).
	arm64HeaderAlign = 64 << 10
	// elfHeaderPad pads the header as the kernel pads its own
	// (ELF_CORE_HEADER_ALIGN).
	elfHeaderPad = 4 << 10
	// rngSeedSize is the rng-seed the kernel's kexec_file_load passes
	// (RNG_SEED_SIZE, drivers/of/kexec.c).
	rngSeedSize = 128
	// maxFDT is the largest device tree an arm64 kernel maps
	// (MAX_FDT_SIZE); it must not cross a 2 MiB block either.
	maxFDT = 2 << 20
)

// PlanARM64 lays out an arm64 crash load for kexec_load: the Image at
// the crash region's first 2 MiB boundary + text_offset (booting.rst),
// then the initrd, the edited device tree (within one 2 MiB block), a
// page of purgatory that enters the Image with x0 = the device tree, and
// the ELF core header at the region's top, 64 KiB aligned. The capture
// kernel learns where the header is and which memory is its own from
// /chosen (linux,elfcorehdr, linux,usable-memory-range), not from its
// command line, which is passed as it is.
func PlanARM64(sys *ARM64System, in ARM64Inputs) (*Plan, error) {
	im, err := ParseARM64Image(in.Kernel)
	if err != nil {
		return nil, err
	}
	pg := sys.PageSize
	if pg == 0 || pg&(pg-1) != 0 {
		return nil, fmt.Errorf("page size %d: want a power of two", pg)
	}
	crash := sys.Memory.Crash
	p := &Plan{Crash: crash, Cmdline: in.Cmdline, Image: im, Usable: sys.Memory.RAM}
	for _, r := range sys.Memory.Reserved() {
		p.Usable = subtract(p.Usable, r)
	}
	if crash.Start%pg != 0 || (crash.End+1)%pg != 0 {
		return nil, fmt.Errorf("crash region %v is not page-aligned (%d-byte pages)", crash, pg)
	}

	hdr := CoreHeader{Machine: elf.EM_AARCH64, Class: elf.ELFCLASS64, Loads: p.Usable, Kernel: &sys.Kernel,
		PageOffset: sys.PageOffset, PhysOffset: sys.PhysOffset}
	hdr.Notes = append(append(hdr.Notes, sys.CPUNotes...), sys.VMCOREINFO)
	hb := hdr.Bytes()
	hb = append(hb, make([]byte, alignUp(uint64(len(hb)), elfHeaderPad)-uint64(len(hb)))...)
	hdrMemsz := alignUp(uint64(len(hb)), pg)
	if hdrMemsz > crash.Size() {
		return nil, fmt.Errorf("crash region %v is smaller than the %d-byte ELF core header", crash, len(hb))
	}
	p.Header = Range{alignDown(crash.End+1-hdrMemsz, arm64HeaderAlign), 0}
	p.Header.End = p.Header.Start + uint64(len(hb)) - 1
	if p.Header.Start < crash.Start {
		return nil, fmt.Errorf("crash region %v has no 64 KiB-aligned room for the %d-byte ELF core header", crash, len(hb))
	}

	kernel := alignUp(crash.Start, arm64KernelAlign) + im.TextOffset
	p.Segments = append(p.Segments, Segment{"kernel", in.Kernel, kernel, alignUp(im.ImageSize, pg)})
	next := kernel + alignUp(im.ImageSize, pg)
	var initrd *Range
	if in.Initrd != nil {
		initrd = &Range{next, next + uint64(len(in.Initrd)) - 1}
		p.Segments = append(p.Segments, Segment{"initrd", in.Initrd, next, alignUp(uint64(len(in.Initrd)), pg)})
		next = alignUp(next+uint64(len(in.Initrd)), pg)
	}
	edit := DTBEdit{Bootargs: in.Cmdline, Initrd: initrd, ElfCoreHdr: p.Header, UsableMemory: crash, UsableLow: sys.Memory.Low,
		KASLRSeed: make([]byte, 8), RNGSeed: make([]byte, rngSeedSize)}
	if err := seeds(in.Rand, edit.KASLRSeed, edit.RNGSeed); err != nil {
		return nil, err
	}
	dtb, err := EditDTB(in.DTB, edit)
	if err != nil {
		return nil, err
	}
	if len(dtb) > maxFDT {
		return nil, fmt.Errorf("device tree of %d bytes: an arm64 kernel maps at most 2 MiB", len(dtb))
	}
	if alignDown(next, maxFDT) != alignDown(next+uint64(len(dtb))-1, maxFDT) {
		next = alignUp(next, maxFDT) // keep it inside one 2 MiB block
	}
	p.DTBAddr = next
	p.Segments = append(p.Segments, Segment{"dtb", dtb, next, alignUp(uint64(len(dtb)), pg)})
	next = alignUp(next+uint64(len(dtb)), pg)

	p.Entry = next
	p.Segments = append(p.Segments,
		Segment{"purgatory", arm64Purgatory(p.DTBAddr, kernel), next, pg},
		Segment{"elfcorehdr", hb, p.Header.Start, hdrMemsz})
	if err := p.check(); err != nil {
		return nil, err
	}
	return p, p.checkFree(2 * pg)
}

// seeds fills each buffer from r (crypto/rand when nil).
func seeds(r io.Reader, bufs ...[]byte) error {
	if r == nil {
		r = rand.Reader
	}
	for _, b := range bufs {
		if _, err := io.ReadFull(r, b); err != nil {
			return fmt.Errorf("random seeds for the capture kernel: %w", err)
		}
	}
	return nil
}

// checkFree wants n bytes of the crash region left outside the segments:
// kexec_load takes a control page and a page for its copy of VMCOREINFO
// from there (kimage_alloc_init, kimage_crash_copy_vmcoreinfo in 6.12)
// and answers ENOMEM when it finds none.
func (p *Plan) checkFree(n uint64) error {
	used := uint64(0)
	for _, s := range p.Segments {
		used += s.Memsz
	}
	if free := p.Crash.Size() - used; free < n {
		return fmt.Errorf("the segments leave %d bytes of the crash region %v free; the kernel needs %d for its control page and VMCOREINFO copy: crashkernel= is too small for this kernel and initrd", free, p.Crash, n)
	}
	return nil
}
