package dump

import (
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/kdumpkit/kdumpkit/diskdump"
	"github.com/kdumpkit/kdumpkit/internal/regularfile"
)

// Sentinel errors.
var (
	// ErrNotVmcore means the file is not an ELF core file.
	ErrNotVmcore = errors.New("not an ELF vmcore")
	// ErrNotInDump means a physical address lies in no PT_LOAD.
	ErrNotInDump = errors.New("physical address not in the dump")
	// ErrTruncated means the file ends before data its headers promise.
	ErrTruncated = errors.New("dump is truncated")
	// ErrNotRegular means a path names a FIFO, device, socket or
	// directory: reading one can block for ever or never end.
	ErrNotRegular = regularfile.ErrNotRegular
)

// FormatError is a malformed structure at a file offset.
type FormatError struct {
	Offset int64
	Msg    string
}

func (e *FormatError) Error() string { return fmt.Sprintf("offset %#x: %s", e.Offset, e.Msg) }

// Segment is one PT_LOAD: physical memory [Paddr, Paddr+Memsz) of which the
// first Filesz bytes are in the file at Off (the rest reads as zeros).
type Segment struct {
	Paddr, Vaddr, Off, Filesz, Memsz uint64
	// Lost counts the bytes after Filesz that the header promised in the
	// file but a truncated file lacks; reading them is an error, not zeros.
	Lost uint64
}

// File is an open vmcore.
type File struct {
	Name string
	// Format is FormatELF, FormatKdump or FormatKdumpFlat.
	Format    string
	Class     elf.Class
	ByteOrder binary.ByteOrder
	Machine   elf.Machine
	Loads     []Segment // sorted by Paddr; they may overlap
	Notes     []Note
	// Warnings are problems that leave the dump partly readable, such as
	// truncation: reads of what is present still work.
	Warnings []error
	// Unverified holds the reasons of an UNVERIFIED marker beside the
	// file (Open only); each is also a warning.
	Unverified []string

	// phys is Loads without overlaps, for lookups: arm64's kernel
	// builds a PT_LOAD for the kernel image whose physical range lies
	// inside the RAM PT_LOAD that also holds it.
	phys []Segment

	r      io.ReaderAt
	size   int64
	closer io.Closer
	kdump  *diskdump.File // nil for ELF
}

// OpenRegular opens path for reading if it is a regular file: the
// analyzer opens vmcores and vmlinuxes with it, so a FIFO or a device
// given by mistake is refused instead of blocking or never ending.
func OpenRegular(path string) (*os.File, error) { return regularfile.Open(path) }

// Open opens a vmcore file; Close closes it.
func Open(path string) (*File, error) {
	f, err := OpenRegular(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	d, err := New(f, st.Size(), path)
	if err != nil {
		f.Close()
		return nil, err
	}
	d.closer = f
	if d.Unverified, err = Unverified(path); err != nil {
		d.Close()
		return nil, err
	}
	d.Warnings = append(unverifiedWarnings(path, d.Unverified), d.Warnings...)
	return d, nil
}

// Close closes the file if Open opened it.
func (f *File) Close() error {
	if f.closer != nil {
		return f.closer.Close()
	}
	return nil
}

// New reads the headers and notes of a vmcore held by r (size bytes long):
// an ELF vmcore, a kdump-compressed dump or a flattened stream of one.
func New(r io.ReaderAt, size int64, name string) (*File, error) {
	var magic [32]byte
	n, _ := r.ReadAt(magic[:], 0)
	switch {
	case n >= 8 && string(magic[:8]) == diskdump.Signature:
		return newKdump(r, size, name, false)
	case diskdump.IsFlat(magic[:n]):
		return newKdump(r, size, name, true)
	}
	if err := checkHeaderSize(r, size, name); err != nil {
		return nil, err
	}
	ef, err := elf.NewFile(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %v", name, ErrNotVmcore, err)
	}
	if ef.Type != elf.ET_CORE {
		return nil, fmt.Errorf("%s: %w: ELF type %v, want ET_CORE", name, ErrNotVmcore, ef.Type)
	}
	f := &File{Name: name, Format: FormatELF, Class: ef.Class, ByteOrder: ef.ByteOrder, Machine: ef.Machine, r: r, size: size}
	for i, p := range ef.Progs {
		switch p.Type {
		case elf.PT_LOAD:
			if p.Filesz > p.Memsz {
				return nil, fmt.Errorf("%s: program header %d: %w", name, i, &FormatError{int64(p.Off), fmt.Sprintf("p_filesz %#x > p_memsz %#x", p.Filesz, p.Memsz)})
			}
			s := Segment{Paddr: p.Paddr, Vaddr: p.Vaddr, Off: p.Off, Filesz: p.Filesz, Memsz: p.Memsz}
			if end := p.Off + p.Filesz; end < p.Off || end > uint64(size) {
				have := uint64(0)
				if p.Off < uint64(size) {
					have = uint64(size) - p.Off
				}
				f.Warnings = append(f.Warnings, fmt.Errorf("%s: %w: PT_LOAD %d (physical %#x-%#x) wants file bytes %#x-%#x, the file ends at %#x: %d bytes missing",
					name, ErrTruncated, i, p.Paddr, p.Paddr+p.Memsz, p.Off, p.Off+p.Filesz, size, p.Filesz-have))
				s.Filesz, s.Lost = have, p.Filesz-have
			}
			f.Loads = append(f.Loads, s)
		case elf.PT_NOTE:
			if p.Filesz > 64<<20 {
				return nil, fmt.Errorf("%s: %w", name, &FormatError{int64(p.Off), fmt.Sprintf("PT_NOTE of %#x bytes is not plausible", p.Filesz)})
			}
			if end := p.Off + p.Filesz; end < p.Off || end > uint64(size) {
				return nil, fmt.Errorf("%s: %w at byte %d: the PT_NOTE needs bytes %d-%d", name, ErrTruncated, size, p.Off, end)
			}
			data := make([]byte, p.Filesz)
			if _, err := r.ReadAt(data, int64(p.Off)); err != nil {
				return nil, fmt.Errorf("%s: reading PT_NOTE at %#x: %w", name, p.Off, err)
			}
			notes, err := ParseNotes(data, f.ByteOrder)
			if err != nil {
				var fe *FormatError
				if errors.As(err, &fe) {
					fe.Offset += int64(p.Off)
				}
				return nil, fmt.Errorf("%s: PT_NOTE %d: %w", name, i, err)
			}
			f.Notes = append(f.Notes, notes...)
		}
	}
	if len(f.Loads) == 0 {
		return nil, fmt.Errorf("%s: %w: no PT_LOAD segments", name, ErrNotVmcore)
	}
	sort.SliceStable(f.Loads, func(i, j int) bool { return f.Loads[i].Paddr < f.Loads[j].Paddr })
	f.phys = disjoint(f.Loads)
	return f, nil
}

// disjoint returns sorted segments with every physical byte in at most
// one: a segment inside an earlier one is dropped, one that overlaps an
// earlier one's end is cut to start there. Both describe the same memory,
// so which copy is read does not matter.
func disjoint(loads []Segment) []Segment {
	out := make([]Segment, 0, len(loads))
	var end uint64 // highest end so far
	for _, s := range loads {
		e := s.Paddr + s.Memsz
		if len(out) > 0 && e <= end {
			continue
		}
		if len(out) > 0 && s.Paddr < end {
			d := end - s.Paddr
			s.Paddr, s.Vaddr, s.Off, s.Memsz = s.Paddr+d, s.Vaddr+d, s.Off+d, s.Memsz-d
			cut := min(d, s.Filesz)
			s.Filesz -= cut
			if d > cut { // the cut reached past the file bytes into Lost or zero fill
				s.Lost -= min(s.Lost, d-cut)
			}
		}
		out = append(out, s)
		end = e
	}
	return out
}

// ReadPhys fills p from physical address addr; reads may span segments
// that are contiguous in physical memory.
func (f *File) ReadPhys(p []byte, addr uint64) error {
	if f.kdump != nil {
		return f.readKdump(p, addr)
	}
	for len(p) > 0 {
		s := f.segment(addr)
		if s == nil {
			return fmt.Errorf("%w: %#x", ErrNotInDump, addr)
		}
		in := addr - s.Paddr
		n := uint64(len(p))
		if rem := s.Memsz - in; n > rem {
			n = rem
		}
		chunk := p[:n]
		if in < s.Filesz+s.Lost && in+n > s.Filesz {
			return fmt.Errorf("%w: physical %#x lies past the end of the file", ErrTruncated, max(addr, s.Paddr+s.Filesz))
		}
		if in < s.Filesz {
			fileN := min(n, s.Filesz-in)
			if _, err := f.r.ReadAt(chunk[:fileN], int64(s.Off+in)); err != nil {
				return fmt.Errorf("reading physical %#x at file offset %#x: %w", addr, s.Off+in, err)
			}
			clear(chunk[fileN:])
		} else {
			clear(chunk)
		}
		p, addr = p[n:], addr+n
	}
	return nil
}

func (f *File) segment(addr uint64) *Segment {
	i := sort.Search(len(f.phys), func(i int) bool { return f.phys[i].Paddr+f.phys[i].Memsz > addr })
	if i < len(f.phys) && f.phys[i].Paddr <= addr {
		return &f.phys[i]
	}
	return nil
}

// RAMBytes is the physical memory the PT_LOADs describe, each byte once.
func (f *File) RAMBytes() uint64 {
	var n uint64
	for _, s := range f.phys {
		n += s.Memsz
	}
	return n
}

// PRStatus returns the NT_PRSTATUS descriptors of the CORE notes, one per
// CPU that saved its registers, in note order (CPU order).
func (f *File) PRStatus() [][]byte {
	var out [][]byte
	for _, n := range f.Notes {
		if n.Name == "CORE" && n.Type == uint32(elf.NT_PRSTATUS) {
			out = append(out, n.Desc)
		}
	}
	return out
}

// VMCOREINFO returns the VMCOREINFO note's text.
func (f *File) VMCOREINFO() ([]byte, bool) {
	for _, n := range f.Notes {
		if n.Name == "VMCOREINFO" {
			return n.Desc, true
		}
	}
	if f.kdump != nil {
		return f.kdump.VMCOREINFO()
	}
	return nil, false
}
