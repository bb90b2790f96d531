package dump

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"io"
)

// checkHeaderSize refuses a file that starts like an ELF file but ends
// inside its ELF header or program header table, saying where it was cut:
// debug/elf would only say EOF, which reads like "not a vmcore" when the
// user has a cut copy of one. Anything that does not start like ELF is
// left to debug/elf's own error.
func checkHeaderSize(r io.ReaderAt, size int64, name string) error {
	if size == 0 {
		return fmt.Errorf("%s: %w: the file is empty", name, ErrNotVmcore)
	}
	var ident [elf.EI_NIDENT]byte
	n, _ := r.ReadAt(ident[:], 0)
	magic := []byte(elf.ELFMAG)
	if n < len(ident) {
		if bytes.HasPrefix(magic, ident[:min(n, len(magic))]) { // cut inside or after the magic
			return truncatedHeader(name, size, elf.EI_NIDENT, "the ELF identification")
		}
		return nil
	}
	if !bytes.HasPrefix(ident[:], magic) {
		return nil
	}
	var bo binary.ByteOrder = binary.LittleEndian
	if elf.Data(ident[elf.EI_DATA]) == elf.ELFDATA2MSB {
		bo = binary.BigEndian
	}
	// e_phoff, e_phentsize and e_phnum sit at these offsets (ELF gABI).
	ehsize, phoffAt, phentAt := int64(52), int64(28), int64(42)
	if elf.Class(ident[elf.EI_CLASS]) == elf.ELFCLASS64 {
		ehsize, phoffAt, phentAt = 64, 32, 54
	}
	if size < ehsize {
		return truncatedHeader(name, size, ehsize, "the ELF header")
	}
	hdr := make([]byte, ehsize)
	if _, err := r.ReadAt(hdr, 0); err != nil {
		return fmt.Errorf("%s: reading the ELF header: %w", name, err)
	}
	phoff := uint64(bo.Uint32(hdr[phoffAt:]))
	if ehsize == 64 {
		phoff = bo.Uint64(hdr[phoffAt:])
	}
	table := uint64(bo.Uint16(hdr[phentAt:])) * uint64(bo.Uint16(hdr[phentAt+2:]))
	if end := phoff + table; end >= phoff && end > uint64(size) {
		return truncatedHeader(name, size, int64(end), "the program header table")
	}
	return nil
}

func truncatedHeader(name string, size, need int64, what string) error {
	return fmt.Errorf("%s: %w at byte %d: %s needs %d bytes", name, ErrTruncated, size, what, need)
}
