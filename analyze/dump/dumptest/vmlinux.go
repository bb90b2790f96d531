package dumptest

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
)

// Section is one allocated section of a synthetic vmlinux.
type Section struct {
	Name string
	Addr uint64
	Data []byte
}

// Symbol is one symbol of a synthetic vmlinux (a global object).
type Symbol struct {
	Name       string
	Addr, Size uint64
}

// Vmlinux describes a small ELF32 little-endian kernel image: sections,
// a .symtab and, when BuildID is set, a .notes section with the GNU
// build-id note the kernel links in.
type Vmlinux struct {
	Machine  elf.Machine
	Sections []Section
	Symbols  []Symbol
	BuildID  []byte
}

type shdr32 struct {
	Name, Type, Flags, Addr, Off, Size, Link, Info, Addralign, Entsize uint32
}

// Bytes writes the image: header, section contents, string and symbol
// tables, then the section header table.
func (v *Vmlinux) Bytes() []byte {
	bo := binary.LittleEndian
	var body bytes.Buffer
	body.Write(make([]byte, 52))
	shstr := []byte{0}
	name := func(s string) uint32 { n := len(shstr); shstr = append(append(shstr, s...), 0); return uint32(n) }
	shdrs := []shdr32{{}}
	add := func(nm string, typ elf.SectionType, flags elf.SectionFlag, addr uint64, data []byte) {
		shdrs = append(shdrs, shdr32{Name: name(nm), Type: uint32(typ), Flags: uint32(flags), Addr: uint32(addr),
			Off: uint32(body.Len()), Size: uint32(len(data)), Addralign: 1})
		body.Write(data)
	}
	for _, s := range v.Sections {
		add(s.Name, elf.SHT_PROGBITS, elf.SHF_ALLOC, s.Addr, s.Data)
	}
	if v.BuildID != nil {
		add(".notes", elf.SHT_NOTE, elf.SHF_ALLOC, 0, NoteBytes(bo, []Note{{Name: "GNU", Type: 3, Desc: v.BuildID}}))
	}
	strtab := []byte{0}
	var symtab bytes.Buffer
	symtab.Write(make([]byte, 16)) // the null symbol
	for _, s := range v.Symbols {
		binary.Write(&symtab, bo, struct {
			Name, Value, Size uint32
			Info, Other       uint8
			Shndx             uint16
		}{uint32(len(strtab)), uint32(s.Addr), uint32(s.Size), byte(elf.STB_GLOBAL)<<4 | byte(elf.STT_OBJECT), 0, v.sectionOf(s.Addr)})
		strtab = append(append(strtab, s.Name...), 0)
	}
	symIdx := len(shdrs)
	add(".symtab", elf.SHT_SYMTAB, 0, 0, symtab.Bytes())
	shdrs[symIdx].Link, shdrs[symIdx].Info, shdrs[symIdx].Entsize = uint32(symIdx+1), 1, 16
	add(".strtab", elf.SHT_STRTAB, 0, 0, strtab)
	shstrIdx := len(shdrs)
	add(".shstrtab", elf.SHT_STRTAB, 0, 0, nil)
	shdrs[shstrIdx].Off, shdrs[shstrIdx].Size = uint32(body.Len()), uint32(len(shstr))
	body.Write(shstr)
	shoff := body.Len()
	for _, h := range shdrs {
		binary.Write(&body, bo, h)
	}
	out := body.Bytes()
	ident := [16]byte{0x7f, 'E', 'L', 'F', byte(elf.ELFCLASS32), byte(elf.ELFDATA2LSB), 1}
	var hdr bytes.Buffer
	hdr.Write(ident[:])
	binary.Write(&hdr, bo, struct {
		Type, Machine                                        uint16
		Version, Entry, Phoff, Shoff, Flags                  uint32
		Ehsize, Phentsize, Phnum, Shentsize, Shnum, Shstrndx uint16
	}{uint16(elf.ET_EXEC), uint16(v.Machine), 1, 0, 0, uint32(shoff), 0, 52, 32, 0, 40, uint16(len(shdrs)), uint16(shstrIdx)})
	copy(out, hdr.Bytes())
	return out
}

// sectionOf is the index of the section holding addr (1-based: index 0 is
// the null section), or 1 when none does.
func (v *Vmlinux) sectionOf(addr uint64) uint16 {
	for i, s := range v.Sections {
		if addr >= s.Addr && addr < s.Addr+uint64(len(s.Data)) {
			return uint16(i + 1)
		}
	}
	return 1
}
