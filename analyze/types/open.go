package types

import (
	"debug/elf"
	"fmt"
	"os"
)

// Open loads the DWARF of the ELF file at path. Where the platform allows,
// the file is mapped rather than read, so a 100 MiB .debug_info costs page
// cache, not heap, and only the pages a question touches are read.
func Open(path string) (*Types, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ef, err := elf.NewFile(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	mapped, unmap, err := mapFile(f, st.Size())
	if err != nil { // no mmap: read the sections
		return FromELF(ef)
	}
	t, err := fromSections(ef.ByteOrder, func(name string) ([]byte, error) {
		s := ef.Section(name)
		if s == nil || s.Type == elf.SHT_NOBITS {
			return nil, nil
		}
		if s.Flags&elf.SHF_COMPRESSED != 0 || s.Offset+s.Size > uint64(len(mapped)) {
			return s.Data() // compressed or odd: let debug/elf handle it
		}
		return mapped[s.Offset : s.Offset+s.Size : s.Offset+s.Size], nil
	})
	if err != nil {
		unmap()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	t.release = unmap
	return t, nil
}

// Close releases the file mapping of a Types made by Open. Types from
// FromELF need no Close; calling it is harmless.
func (t *Types) Close() error {
	if t == nil || t.release == nil {
		return nil
	}
	err := t.release()
	t.release = nil
	return err
}
