package dump

import (
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/kdumpkit/kdumpkit/analyze/vmcoreinfo"
	"github.com/kdumpkit/kdumpkit/diskdump"
)

// Dump formats, as File.Format names them.
const (
	FormatELF        = "ELF"
	FormatKdump      = "kdump-compressed"
	FormatKdumpFlat  = "kdump-compressed, flattened"
	armPageOffsetMsk = 0xffc00000 // makedumpfile's get_machdep_info_arm: PAGE_OFFSET = _stext & this
)

// ErrExcluded means a page is RAM but the dump's filter left it out (a
// kdump-compressed dump below dump level 0): it reads as this error,
// never as zeros.
var ErrExcluded = diskdump.ErrExcluded

// machines maps utsname machine prefixes to ELF machines.
var machines = []struct {
	prefix string
	m      elf.Machine
}{{"aarch64", elf.EM_AARCH64}, {"arm64", elf.EM_AARCH64}, {"arm", elf.EM_ARM}, {"x86_64", elf.EM_X86_64},
	{"i386", elf.EM_386}, {"i486", elf.EM_386}, {"i586", elf.EM_386}, {"i686", elf.EM_386}}

// newKdump opens a kdump-compressed dump, or a flattened stream of one
// read in place, and describes it as a File: notes from the sub-header,
// and one Segment per run of RAM pages in the 1st bitmap.
func newKdump(r io.ReaderAt, size int64, name string, flat bool) (*File, error) {
	f := &File{Name: name, Format: FormatKdump, r: r, size: size}
	if flat {
		fr, err := diskdump.NewFlatReader(r, size)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if fr.Cut != nil {
			f.Warnings = append(f.Warnings, fmt.Errorf("%s: %w", name, fr.Cut))
		}
		r, size, f.Format = fr, fr.Size(), FormatKdumpFlat
	}
	kd, err := diskdump.New(r, size)
	if err != nil {
		if flat && errors.Is(err, diskdump.ErrNotKdump) {
			return nil, fmt.Errorf("%s: %w: the flattened stream has no dump header (a streaming writer sends it last, so the stream was cut)", name, ErrNotVmcore)
		}
		return nil, fmt.Errorf("%s: %w: %w", name, ErrNotVmcore, err)
	}
	f.kdump = kd
	f.ByteOrder = kd.Layout.Order
	f.Class = elf.ELFCLASS64
	if kd.Layout.Word == 4 {
		f.Class = elf.ELFCLASS32
	}
	machine := kd.Header.Utsname.Machine
	for _, m := range machines {
		if strings.HasPrefix(machine, m.prefix) {
			f.Machine = m.m
			break
		}
	}
	if f.Machine == elf.EM_NONE {
		return nil, fmt.Errorf("%s: kdump-compressed dump of machine %q: want arm*, aarch64 or x86_64", name, machine)
	}
	if f.Notes, err = ParseNotes(kd.Notes, f.ByteOrder); err != nil {
		return nil, fmt.Errorf("%s: the sub-header's ELF notes: %w", name, err)
	}
	if split, start, end := kd.Split(); split {
		bs := uint64(kd.BlockSize())
		f.Warnings = append(f.Warnings, fmt.Errorf("%s is one part of a split dump, holding physical %#x-%#x: pages of the other parts read as errors; `kdumpkit reassemble PART... OUT` joins the parts", name, start*bs, end*bs))
	}
	if kd.Incomplete() {
		f.Warnings = append(f.Warnings, fmt.Errorf("%s: the dump's header says it is incomplete (its writer stopped): pages it did not reach read as errors", name))
	}
	f.Loads = kdumpLoads(kd, f.pageOffsetARM())
	if len(f.Loads) == 0 {
		return nil, fmt.Errorf("%s: %w: the 1st bitmap marks no RAM", name, ErrNotVmcore)
	}
	return f, nil
}

// pageOffsetARM is PAGE_OFFSET of a 32-bit ARM kernel, which the format
// does not record (an ELF vmcore has it in p_vaddr): makedumpfile and
// crash take _stext rounded down to 4 MiB. Zero elsewhere, where the
// translators walk the page tables instead.
func (f *File) pageOffsetARM() uint64 {
	if f.Machine != elf.EM_ARM {
		return 0
	}
	raw, ok := f.VMCOREINFO()
	if !ok {
		return 0
	}
	info, err := vmcoreinfo.Parse(raw)
	if err != nil {
		return 0
	}
	stext, err := info.Symbol("_stext")
	if err != nil {
		return 0
	}
	return stext & armPageOffsetMsk
}

// kdumpLoads turns the runs of the 1st bitmap into segments; on ARM each
// gets the linear map's virtual address, as kexec writes p_vaddr.
func kdumpLoads(kd *diskdump.File, pageOffset uint64) []Segment {
	bs := uint64(kd.BlockSize())
	var loads []Segment
	for i := uint64(0); i < kd.MaxMapnr; {
		start, ok := kd.Present.Next(i)
		if !ok || start >= kd.MaxMapnr {
			break
		}
		end := start
		for end < kd.MaxMapnr && kd.Present.Test(end) {
			end++
		}
		s := Segment{Paddr: (start + kd.PFNOffset) * bs, Memsz: (end - start) * bs}
		s.Filesz = s.Memsz
		if pageOffset != 0 {
			s.Vaddr = s.Paddr - kd.PFNOffset*bs + pageOffset
		}
		loads = append(loads, s)
		i = end
	}
	return loads
}

// readKdump reads physical memory page by page; an excluded page is an
// error naming the address and the dump level.
func (f *File) readKdump(p []byte, addr uint64) error {
	bs := uint64(f.kdump.BlockSize())
	for len(p) > 0 {
		off := addr % bs
		n := min(uint64(len(p)), bs-off)
		if err := f.kdump.ReadPagePart(addr/bs, int(off), p[:n]); err != nil {
			if errors.Is(err, diskdump.ErrNoRAM) {
				return fmt.Errorf("%w: %#x", ErrNotInDump, addr)
			}
			return fmt.Errorf("physical %#x: %w", addr, err)
		}
		p, addr = p[n:], addr+n
	}
	return nil
}

// Kdump is the kdump-compressed reader behind f, nil for an ELF vmcore.
func (f *File) Kdump() *diskdump.File { return f.kdump }
