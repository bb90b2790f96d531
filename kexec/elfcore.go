package kexec

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
)

// CoreNote is a PT_NOTE the header points at: a per-CPU crash_notes
// buffer or VMCOREINFO, by physical address.
type CoreNote struct {
	Addr, Size uint64
}

// CoreHeader describes the crashed kernel for the capture kernel's
// /proc/vmcore: an ET_CORE ELF header with one PT_NOTE per CPU note and
// VMCOREINFO, and one PT_LOAD per usable range (p_offset = p_paddr: the
// capture kernel reads old memory by physical address).
type CoreHeader struct {
	Machine    elf.Machine
	Class      elf.Class // ARM: ELFCLASS32, or ELFCLASS64 when RAM lies above 4 GiB; arm64: ELFCLASS64
	Notes      []CoreNote
	Loads      []Range
	PageOffset uint64 // p_vaddr = p_paddr + PageOffset - PhysOffset
	PhysOffset uint64
	// Kernel, when set, adds a PT_LOAD for the kernel image at its own
	// virtual address before the RAM ones, as the kernel's
	// crash_prepare_elf64_headers does (arm64: the image is mapped apart
	// from the linear map, so its pages appear twice).
	Kernel *KernelMap
}

// Bytes encodes the header, little-endian (the ARM and arm64 kernels we
// load are).
func (h *CoreHeader) Bytes() []byte {
	var b bytes.Buffer
	le := binary.LittleEndian
	ident := [16]byte{0x7f, 'E', 'L', 'F', byte(h.Class), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)}
	b.Write(ident[:])
	type ph struct {
		typ                              elf.ProgType
		flags                            uint32
		off, vaddr, paddr, filesz, memsz uint64
	}
	var phs []ph
	for _, n := range h.Notes {
		phs = append(phs, ph{elf.PT_NOTE, 0, n.Addr, 0, n.Addr, n.Size, n.Size})
	}
	if k := h.Kernel; k != nil {
		phs = append(phs, ph{elf.PT_LOAD, uint32(elf.PF_R | elf.PF_W | elf.PF_X), k.Start, k.Vaddr, k.Start, k.Size(), k.Size()})
	}
	for _, r := range h.Loads {
		phs = append(phs, ph{elf.PT_LOAD, uint32(elf.PF_R | elf.PF_W | elf.PF_X), r.Start, r.Start + h.PageOffset - h.PhysOffset, r.Start, r.Size(), r.Size()})
	}
	if h.Class == elf.ELFCLASS64 {
		binary.Write(&b, le, struct {
			Type, Machine                                        uint16
			Version                                              uint32
			Entry, Phoff, Shoff                                  uint64
			Flags                                                uint32
			Ehsize, Phentsize, Phnum, Shentsize, Shnum, Shstrndx uint16
		}{uint16(elf.ET_CORE), uint16(h.Machine), uint32(elf.EV_CURRENT), 0, 64, 0, 0, 64, 56, uint16(len(phs)), 0, 0, 0})
		for _, p := range phs {
			binary.Write(&b, le, elf.Prog64{Type: uint32(p.typ), Flags: p.flags, Off: p.off, Vaddr: p.vaddr, Paddr: p.paddr, Filesz: p.filesz, Memsz: p.memsz})
		}
		return b.Bytes()
	}
	binary.Write(&b, le, struct {
		Type, Machine                                        uint16
		Version, Entry, Phoff, Shoff, Flags                  uint32
		Ehsize, Phentsize, Phnum, Shentsize, Shnum, Shstrndx uint16
	}{uint16(elf.ET_CORE), uint16(h.Machine), uint32(elf.EV_CURRENT), 0, 52, 0, 0, 52, 32, uint16(len(phs)), 0, 0, 0})
	for _, p := range phs {
		binary.Write(&b, le, elf.Prog32{Type: uint32(p.typ), Off: uint32(p.off), Vaddr: uint32(p.vaddr), Paddr: uint32(p.paddr),
			Filesz: uint32(p.filesz), Memsz: uint32(p.memsz), Flags: p.flags})
	}
	return b.Bytes()
}
