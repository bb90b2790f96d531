package symbols

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

var (
	// ErrNoBuildID means the ELF file carries no NT_GNU_BUILD_ID note.
	ErrNoBuildID = errors.New("no GNU build ID note")
	// ErrBuildIDMismatch means the vmlinux is not the kernel that wrote the dump.
	ErrBuildIDMismatch = errors.New("vmlinux and vmcore do not match")
)

const ntGNUBuildID = 3

// BuildID returns the NT_GNU_BUILD_ID descriptor of an ELF file, looked for
// in every SHT_NOTE section (the kernel links it into .notes).
func BuildID(f *elf.File) ([]byte, error) {
	for _, s := range f.Sections {
		if s.Type != elf.SHT_NOTE {
			continue
		}
		data, err := s.Data()
		if err != nil {
			return nil, fmt.Errorf("reading section %s: %w", s.Name, err)
		}
		id, err := buildIDFromNotes(data, f.ByteOrder)
		if err != nil {
			return nil, fmt.Errorf("section %s: %w", s.Name, err)
		}
		if id != nil {
			return id, nil
		}
	}
	return nil, ErrNoBuildID
}

// buildIDFromNotes scans ELF notes (namesz, descsz, type, name, desc; each
// padded to 4 bytes) for a GNU build ID. It returns nil, nil when there is none.
func buildIDFromNotes(data []byte, bo binary.ByteOrder) ([]byte, error) {
	off := 0
	for off+12 <= len(data) {
		namesz := int(bo.Uint32(data[off:]))
		descsz := int(bo.Uint32(data[off+4:]))
		typ := bo.Uint32(data[off+8:])
		nameOff := off + 12
		descOff := nameOff + align4(namesz)
		end := descOff + align4(descsz)
		if namesz < 0 || descsz < 0 || descOff > len(data) || descOff+descsz > len(data) || nameOff+namesz > len(data) {
			return nil, fmt.Errorf("note at offset %d: sizes name %d desc %d run past %d bytes", off, namesz, descsz, len(data))
		}
		name := bytes.TrimRight(data[nameOff:nameOff+namesz], "\x00")
		if typ == ntGNUBuildID && string(name) == "GNU" {
			return append([]byte(nil), data[descOff:descOff+descsz]...), nil
		}
		if end <= off {
			break
		}
		off = end
	}
	return nil, nil
}

func align4(n int) int { return (n + 3) &^ 3 }

// CheckBuildID compares the vmlinux build ID with VMCOREINFO's BUILD-ID
// value (hex, as the kernel prints it with %20phN since 5.9). An empty
// vmcoreinfo value is accepted: older kernels do not write one.
func CheckBuildID(vmlinux []byte, vmcoreinfo string) error {
	want := strings.ToLower(strings.TrimSpace(vmcoreinfo))
	if want == "" {
		return nil
	}
	got := hex.EncodeToString(vmlinux)
	// The kernel prints only the first 20 bytes; a longer ID (md5/uuid
	// styles are shorter, sha1 is 20) is compared on that prefix.
	if len(got) > len(want) && len(want) == 40 {
		got = got[:40]
	}
	if got != want {
		return fmt.Errorf("%w: vmlinux BUILD-ID %s, vmcore VMCOREINFO BUILD-ID %s", ErrBuildIDMismatch, got, want)
	}
	return nil
}
