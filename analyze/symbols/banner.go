package symbols

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
)

// ErrNoBanner means the vmlinux has no readable linux_banner string.
var ErrNoBanner = errors.New("no linux_banner")

// maxBanner bounds the banner read: "Linux version ... (gcc ...) #1 SMP ..."
// is a few hundred bytes.
const maxBanner = 1024

// Banner returns the linux_banner string (init/version.c) as the vmlinux
// file holds it: crash compares it with the dump's copy when it has no
// build ID to go by.
func Banner(f *elf.File, t *Table) (string, error) {
	addr, err := t.Addr("linux_banner")
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNoBanner, err)
	}
	for _, s := range f.Sections {
		if s.Flags&elf.SHF_ALLOC == 0 || s.Type == elf.SHT_NOBITS || addr < s.Addr || addr-s.Addr >= s.Size {
			continue
		}
		buf := make([]byte, min(maxBanner, s.Size-(addr-s.Addr)))
		if _, err := s.ReadAt(buf, int64(addr-s.Addr)); err != nil {
			return "", fmt.Errorf("%w: reading %s at %#x: %v", ErrNoBanner, s.Name, addr, err)
		}
		end := bytes.IndexByte(buf, 0)
		if end < 0 {
			return "", fmt.Errorf("%w: no NUL in the %d bytes at %#x", ErrNoBanner, len(buf), addr)
		}
		return string(buf[:end]), nil
	}
	return "", fmt.Errorf("%w: linux_banner %#x lies in no section with file contents", ErrNoBanner, addr)
}
