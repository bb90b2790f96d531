// Package dumptest writes small synthetic ELF vmcores for tests: the
// headers, notes and PT_LOADs of the kernel's /proc/vmcore format, with
// memory contents the test chooses.
package dumptest

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
)

// Load is one PT_LOAD: Data is the file content; Memsz ≥ len(Data)
// (0 means len(Data)).
type Load struct {
	Paddr, Vaddr uint64
	Data         []byte
	Memsz        uint64
}

// Note is one ELF note.
type Note struct {
	Name string
	Type uint32
	Desc []byte
}

// Core describes a vmcore to write.
type Core struct {
	Class     elf.Class // ELFCLASS32 or ELFCLASS64
	ByteOrder binary.ByteOrder
	Machine   elf.Machine
	Notes     []Note
	Loads     []Load
}

// NoteBytes encodes notes as a PT_NOTE payload.
func NoteBytes(bo binary.ByteOrder, notes []Note) []byte {
	var b bytes.Buffer
	for _, n := range notes {
		name := append([]byte(n.Name), 0)
		binary.Write(&b, bo, uint32(len(name)))
		binary.Write(&b, bo, uint32(len(n.Desc)))
		binary.Write(&b, bo, n.Type)
		b.Write(pad4(name))
		b.Write(pad4(n.Desc))
	}
	return b.Bytes()
}

func pad4(b []byte) []byte {
	return append(append([]byte(nil), b...), make([]byte, (4-len(b)%4)%4)...)
}

// Bytes writes the core: ELF header, program headers (the PT_NOTE first,
// as the kernel does), the notes, then each PT_LOAD's data.
func (c *Core) Bytes() []byte {
	bo := c.ByteOrder
	is64 := c.Class == elf.ELFCLASS64
	ehsize, phsize := 52, 32
	if is64 {
		ehsize, phsize = 64, 56
	}
	notes := NoteBytes(bo, c.Notes)
	nph := 1 + len(c.Loads)
	off := uint64(ehsize + nph*phsize)
	var ph bytes.Buffer
	writePh := func(typ elf.ProgType, o, vaddr, paddr, filesz, memsz uint64) {
		if is64 {
			binary.Write(&ph, bo, struct {
				Type, Flags                             uint32
				Off, Vaddr, Paddr, Filesz, Memsz, Align uint64
			}{uint32(typ), 0, o, vaddr, paddr, filesz, memsz, 0})
			return
		}
		binary.Write(&ph, bo, struct {
			Type, Off, Vaddr, Paddr, Filesz, Memsz, Flags, Align uint32
		}{uint32(typ), uint32(o), uint32(vaddr), uint32(paddr), uint32(filesz), uint32(memsz), 0, 0})
	}
	writePh(elf.PT_NOTE, off, 0, 0, uint64(len(notes)), uint64(len(notes)))
	off += uint64(len(notes))
	for _, l := range c.Loads {
		memsz := l.Memsz
		if memsz == 0 {
			memsz = uint64(len(l.Data))
		}
		writePh(elf.PT_LOAD, off, l.Vaddr, l.Paddr, uint64(len(l.Data)), memsz)
		off += uint64(len(l.Data))
	}
	var out bytes.Buffer
	ident := [16]byte{0x7f, 'E', 'L', 'F', byte(c.Class), byte(elf.ELFDATA2LSB), 1}
	if bo == binary.BigEndian {
		ident[5] = byte(elf.ELFDATA2MSB)
	}
	out.Write(ident[:])
	if is64 {
		binary.Write(&out, bo, struct {
			Type, Machine                                        uint16
			Version                                              uint32
			Entry, Phoff, Shoff                                  uint64
			Flags                                                uint32
			Ehsize, Phentsize, Phnum, Shentsize, Shnum, Shstrndx uint16
		}{uint16(elf.ET_CORE), uint16(c.Machine), 1, 0, uint64(ehsize), 0, 0, uint16(ehsize), uint16(phsize), uint16(nph), 0, 0, 0})
	} else {
		binary.Write(&out, bo, struct {
			Type, Machine                                        uint16
			Version, Entry, Phoff, Shoff, Flags                  uint32
			Ehsize, Phentsize, Phnum, Shentsize, Shnum, Shstrndx uint16
		}{uint16(elf.ET_CORE), uint16(c.Machine), 1, 0, uint32(ehsize), 0, 0, uint16(ehsize), uint16(phsize), uint16(nph), 0, 0, 0})
	}
	out.Write(ph.Bytes())
	out.Write(notes)
	for _, l := range c.Loads {
		out.Write(l.Data)
	}
	return out.Bytes()
}
