package kexec

import (
	"debug/elf"
	"fmt"
	"io"
)

// Segment is one piece of memory for kexec_load: Buf is copied to
// physical Mem; Memsz (page-aligned, ≥ len(Buf)) is zero-filled past it.
type Segment struct {
	Name  string
	Buf   []byte
	Mem   uint64
	Memsz uint64
}

// Plan is a complete kexec_load request.
type Plan struct {
	Entry    uint64
	Segments []Segment
	Cmdline  string
	Crash    Range
	Usable   []Range
	ZImage   *ZImage     // ARM32
	Image    *ARM64Image // arm64
	DTBAddr  uint64      // arm64: the device tree's address, x0 at entry
	Header   Range       // the ELF core header's place
}

const page = 0x1000

func alignUp(v, a uint64) uint64   { return (v + a - 1) &^ (a - 1) }
func alignDown(v, a uint64) uint64 { return v &^ (a - 1) }

// ARMInputs are the files of an ARM32 crash load.
type ARMInputs struct {
	Kernel  []byte // zImage
	Initrd  []byte // nil for none
	DTB     []byte // the running kernel's /sys/firmware/fdt or --dtb
	Cmdline string
}

// PlanARM lays out an ARM32 crash load as kexec-tools 2.0 does, so the
// two can be compared line by line: the zImage at the crash region's
// start + 0x8000 (TEXT_OFFSET), the initrd past the decompressed kernel's
// space, the device tree after it, and the ELF core header in the
// region's last MiB; the capture kernel's mem= stops below the header.
func PlanARM(sys *System, in ARMInputs) (*Plan, error) {
	z, err := ParseZImage(in.Kernel)
	if err != nil {
		return nil, err
	}
	crash := sys.Memory.Crash
	p := &Plan{Crash: crash, Usable: sys.Memory.Usable(), ZImage: z}
	hdr := CoreHeader{Machine: elf.EM_ARM, Class: elf.ELFCLASS32, PageOffset: sys.PageOffset, PhysOffset: sys.Memory.RAM[0].Start, Loads: p.Usable}
	for _, r := range p.Usable {
		if r.End >= 1<<32 {
			hdr.Class = elf.ELFCLASS64
		}
	}
	hdr.Notes = append(append(hdr.Notes, sys.CPUNotes...), sys.VMCOREINFO)
	hb := hdr.Bytes()
	hb = append(hb, make([]byte, alignUp(uint64(len(hb)), 1024)-uint64(len(hb)))...)
	p.Header = Range{alignDown(crash.End+1-uint64(len(hb)), 1<<20), 0}
	p.Header.End = p.Header.Start + uint64(len(hb)) - 1
	if p.Header.Start < crash.Start {
		return nil, fmt.Errorf("crash region %v is smaller than 1 MiB", crash)
	}
	p.Cmdline = fmt.Sprintf("%s elfcorehdr=%#x mem=%dK", in.Cmdline, p.Header.Start, (p.Header.Start-crash.Start)>>10)

	p.Entry = crash.Start + 0x8000
	p.Segments = append(p.Segments, Segment{"kernel", in.Kernel[:z.Size], p.Entry, alignUp(uint64(z.Size), page)})
	next := alignUp(p.Entry+z.Space(), page)
	var initrd *Range
	if in.Initrd != nil {
		initrd = &Range{next, next + uint64(len(in.Initrd)) - 1}
		p.Segments = append(p.Segments, Segment{"initrd", in.Initrd, next, alignUp(uint64(len(in.Initrd)), page)})
		next = alignUp(next+uint64(len(in.Initrd)), page)
	}
	dtb, err := EditDTB(in.DTB, DTBEdit{Bootargs: p.Cmdline, Initrd: initrd, ElfCoreHdr: p.Header, UsableMemory: crash})
	if err != nil {
		return nil, err
	}
	p.Segments = append(p.Segments,
		Segment{"dtb", dtb, next, alignUp(uint64(len(dtb)), page)},
		Segment{"elfcorehdr", hb, p.Header.Start, alignUp(uint64(len(hb)), page)})
	return p, p.check()
}

// check keeps every segment inside the reservation and apart: the kernel
// refuses anything else with EADDRNOTAVAIL, less helpfully.
func (p *Plan) check() error {
	var prevEnd uint64
	var prev string
	for i, s := range p.Segments {
		end := s.Mem + s.Memsz - 1
		if s.Mem < p.Crash.Start || end > p.Crash.End {
			return fmt.Errorf("segment %d (%s, %d bytes) at %#x-%#x lies outside the crash region %v: crashkernel= is too small for this kernel and initrd", i, s.Name, s.Memsz, s.Mem, end, p.Crash)
		}
		if i > 0 && s.Mem <= prevEnd {
			return fmt.Errorf("segment %d (%s) at %#x overlaps %s ending at %#x: the crash region %v is too small", i, s.Name, s.Mem, prev, prevEnd, p.Crash)
		}
		prevEnd, prev = end, s.Name
	}
	return nil
}

// WriteDebug prints the plan in the shape of kexec-tools' -d output.
func (p *Plan) WriteDebug(w io.Writer, flags uint64) {
	if z := p.ZImage; z != nil {
		fmt.Fprintf(w, "zImage size %#x, requires %#x bytes\n", z.Size, z.Size+0x11000)
		if z.Edata != 0 {
			fmt.Fprintf(w, "Decompressed kernel sizes:\n text+data 0x%08x bss 0x%08x total 0x%08x\n", z.Edata, z.BSS, z.Edata+z.BSS)
		}
		fmt.Fprintf(w, "Resulting kernel space: 0x%08x\n", z.Space())
	}
	if im := p.Image; im != nil {
		fmt.Fprintf(w, "Image size %#x: text_offset %#x image_size %#x flags %#x (%d KiB pages, placed anywhere %v)\n",
			im.Size, im.TextOffset, im.ImageSize, im.Flags, im.PageSize()>>10, im.Anywhere())
		fmt.Fprintf(w, "purgatory at %#x: x0 = dtb %#x, then the Image at %#x\n", p.Entry, p.DTBAddr, p.Segments[0].Mem)
	}
	fmt.Fprintln(w, "Coredump memory ranges")
	for _, r := range p.Usable {
		fmt.Fprintf(w, "%016x-%016x (0)\n", r.Start, r.End)
	}
	fmt.Fprintf(w, "elfcorehdr %#x-%#x\n", p.Header.Start, p.Header.End)
	fmt.Fprintf(w, "crashkernel: [%#x - %#x] (%dM)\n", p.Crash.Start, p.Crash.End, p.Crash.Size()>>20)
	fmt.Fprintf(w, "kernel command line: %q\n", p.Cmdline)
	fmt.Fprintf(w, "kexec_load: entry = %#x flags = %#x\nnr_segments = %d\n", p.Entry, flags, len(p.Segments))
	for i, s := range p.Segments {
		fmt.Fprintf(w, "segment[%d].bufsz = %#x\nsegment[%d].mem   = %#x\nsegment[%d].memsz = %#x\n", i, len(s.Buf), i, s.Mem, i, s.Memsz)
	}
}
