package types

import (
	"debug/elf"
	"fmt"
	"io"
	"os"

	"github.com/kdumpkit/kdumpkit/internal/mapfile"
)

// Open loads the DWARF of the ELF file at path without reading
// .debug_info into memory: the name index and member questions read it a
// compile unit at a time (pread, not the mapping, whose read-around faults
// would count 100 MiB against RSS). The file is mapped once; the small
// sections the scanner reads here and there (.debug_abbrev, .debug_str)
// are slices of the mapping, and debug/dwarf, which struct printing and
// whatis use, gets .debug_info from it on first need. Close releases the
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
	var mapped []byte
	unmap := func() error { return nil }
	if st, err := f.Stat(); err == nil {
		if m, um, err := mapfile.Map(f, st.Size()); err == nil {
			mapped, unmap = m, um
		}
	}
	// section is the bytes of an uncompressed section, from the mapping
	// when it covers them.
	section := func(s *elf.Section) ([]byte, error) {
		if s.Flags&elf.SHF_COMPRESSED == 0 && s.Offset+s.Size >= s.Offset && s.Offset+s.Size <= uint64(len(mapped)) {
			return mapped[s.Offset : s.Offset+s.Size : s.Offset+s.Size], nil
		}
		return s.Data()
	}
	src := infoSource{
		r:   io.NewSectionReader(f, int64(is.Offset), int64(is.Size)),
		n:   int(is.Size),
		all: func() ([]byte, error) { return section(is) },
	}
	t, err := fromSections(ef.ByteOrder, func(name string) ([]byte, error) {
		s := ef.Section(name)
		if s == nil || s.Type == elf.SHT_NOBITS {
			return nil, nil
		}
		return section(s)
	}, src)
	if err != nil {
		unmap()
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	t.release = func() error {
		unmap()
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
	t.idx.closed = true
	t.idx.mu.Unlock()
	t.idx.writing.Wait()
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
