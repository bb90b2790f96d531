package types

import (
	"debug/elf"
	"fmt"
	"io"
	"os"
)

// Open loads the DWARF of the ELF file at path without reading
// .debug_info into memory: the name index and member questions read it a
// compile unit at a time (pread, not a mapping, whose read-around faults
// would count 100 MiB against RSS). debug/dwarf, which struct printing and
// whatis use, gets the section mapped on first need. Close releases the
// file.
func Open(path string) (*Types, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	ef, err := elf.NewFile(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	is := ef.Section(".debug_info")
	if is == nil || is.Type == elf.SHT_NOBITS {
		f.Close()
		return nil, ErrNoDWARF
	}
	if is.Flags&elf.SHF_COMPRESSED != 0 { // CONFIG_DEBUG_INFO_COMPRESSED
		defer f.Close()
		return FromELF(ef)
	}
	var unmap func() error
	src := infoSource{
		r: io.NewSectionReader(f, int64(is.Offset), int64(is.Size)),
		n: int(is.Size),
		all: func() ([]byte, error) {
			st, err := f.Stat()
			if err != nil {
				return nil, err
			}
			mapped, um, err := mapFile(f, st.Size())
			if err != nil {
				return is.Data()
			}
			unmap = um
			return mapped[is.Offset : is.Offset+is.Size : is.Offset+is.Size], nil
		},
	}
	t, err := fromSections(ef.ByteOrder, func(name string) ([]byte, error) {
		s := ef.Section(name)
		if s == nil || s.Type == elf.SHT_NOBITS {
			return nil, nil
		}
		return s.Data()
	}, src)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	t.release = func() error {
		if unmap != nil {
			unmap()
		}
		return f.Close()
	}
	return t, nil
}

// Close saves what this run added to the index cache (UseIndexCache) and
// releases the file (and mapping) of a Types made by Open. Types from
// FromELF need Close only for the cache.
func (t *Types) Close() error {
	if t == nil {
		return nil
	}
	t.idx.mu.Lock()
	t.saveIndexCache()
	t.idx.mu.Unlock()
	if t.release == nil {
		return nil
	}
	err := t.release()
	t.release = nil
	return err
}
