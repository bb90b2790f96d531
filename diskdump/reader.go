package diskdump

import (
	"errors"
	"fmt"
	"io"
	"sync"
)

// Reader errors.
var (
	// ErrExcluded means a page is RAM but was filtered out of the dump;
	// the error text names the dump level.
	ErrExcluded = errors.New("page excluded from the dump")
	// ErrNoRAM means a pfn is not RAM in the 1st bitmap (a hole) or lies
	// beyond max_mapnr.
	ErrNoRAM = errors.New("no RAM at this address in the dump")
	// ErrIncomplete means the writer stopped before this page: the header
	// says the dump is incomplete and the page's descriptor was never
	// written.
	ErrIncomplete = errors.New("page not written: the dump is incomplete")
	// ErrOtherPart means a page was dumped into another part of a split
	// dump (makedumpfile --split).
	ErrOtherPart = errors.New("page is in another part of the split dump")
)

// maxNotes bounds the notes read into memory: a few KiB per CPU.
const maxNotes = 64 << 20

// File is an open kdump-compressed dump.
type File struct {
	Header    *Header
	Sub       *SubHeader
	Layout    Layout
	PFNOffset uint64 // pfn of bitmap bit 0 (phys_base's on 32-bit ARM)
	MaxMapnr  uint64 // pfns the bitmaps cover
	Present   *Bitmap
	Dumped    *Bitmap
	Notes     []byte // the ELF notes' raw payload

	r          io.ReaderAt
	size       int64
	dataOffset int64
	// A part of a split dump (makedumpfile --split) holds the pages of
	// pfns [splitStart, splitEnd) (relative); its descriptors count from
	// splitStart. A whole dump holds [0, MaxMapnr).
	splitStart, splitEnd uint64
	rankBase             uint64
	mu                   sync.Mutex
	dec                  decompressor
	cache                [16]cachedPage
	next                 int
	raw                  []byte
}

type cachedPage struct {
	pfn   uint64
	valid bool
	data  []byte
}

// Incomplete reports whether the header says the writer did not finish.
func (f *File) Incomplete() bool { return f.Header.Status&StatusIncomplete != 0 }

// BlockSize is the page size.
func (f *File) BlockSize() int { return int(f.Header.BlockSize) }

// New reads the headers, notes and bitmaps of a kdump-compressed dump held
// by r (size bytes long).
func New(r io.ReaderAt, size int64) (*File, error) {
	blk := make([]byte, 4096)
	n, _ := r.ReadAt(blk, 0)
	h, l, err := ParseHeader(blk[:n])
	if err != nil {
		return nil, err
	}
	f := &File{Header: h, Layout: l, r: r, size: size}
	if h.Version < 1 {
		return nil, &FormatError{8, "header_version", fmt.Sprintf("%d: makedumpfile writes 1 to 6", h.Version)}
	}
	bs := int64(h.BlockSize)
	if h.SubHdrSize < 1 || int64(h.SubHdrSize) > size/bs {
		return nil, &FormatError{int64(l.header().subHdrSize), "sub_hdr_size", fmt.Sprintf("%d blocks in a %d-byte file", h.SubHdrSize, size)}
	}
	sub := make([]byte, l.sub().size)
	if _, err := r.ReadAt(sub, bs); err != nil {
		return nil, fmt.Errorf("reading kdump_sub_header at %#x: %w", bs, err)
	}
	if f.Sub, err = l.ParseSubHeader(sub, h.Version); err != nil {
		return nil, err
	}
	f.MaxMapnr = uint64(h.MaxMapnr)
	if h.Version >= 6 {
		f.MaxMapnr = f.Sub.MaxMapnr64
	}
	f.PFNOffset = PFNOffset(h.Utsname.Machine, f.Sub.PhysBase, int(bs))
	if err := f.readNotes(); err != nil {
		return nil, err
	}
	if err := f.readBitmaps(); err != nil {
		return nil, err
	}
	f.splitEnd = f.MaxMapnr
	if f.Sub.Split != 0 {
		if f.Sub.StartPFN64 > f.Sub.EndPFN64 || f.Sub.EndPFN64 > f.MaxMapnr {
			return nil, &FormatError{bs + int64(l.sub().startPFN64), "start_pfn_64/end_pfn_64", fmt.Sprintf("split part %#x-%#x outside max_mapnr %#x", f.Sub.StartPFN64, f.Sub.EndPFN64, f.MaxMapnr)}
		}
		f.splitStart, f.splitEnd = f.Sub.StartPFN64, f.Sub.EndPFN64
		f.rankBase = f.Dumped.Rank(f.splitStart)
	}
	f.raw = make([]byte, bs)
	for i := range f.cache {
		f.cache[i].data = make([]byte, bs)
	}
	return f, nil
}

func (f *File) readNotes() error {
	s := f.Sub
	if s.SizeNote == 0 {
		return nil
	}
	if s.SizeNote > maxNotes || s.OffsetNote < 0 || s.OffsetNote+int64(s.SizeNote) > f.size {
		return &FormatError{int64(f.BlockSize()) + int64(f.Layout.sub().offNote), "offset_note/size_note",
			fmt.Sprintf("%#x+%#x lies outside the %d-byte file", s.OffsetNote, s.SizeNote, f.size)}
	}
	f.Notes = make([]byte, s.SizeNote)
	if _, err := f.r.ReadAt(f.Notes, s.OffsetNote); err != nil {
		return fmt.Errorf("reading the ELF notes at %#x: %w", s.OffsetNote, err)
	}
	return nil
}

func (f *File) readBitmaps() error {
	h, bs := f.Header, int64(f.Header.BlockSize)
	off := (1 + int64(h.SubHdrSize)) * bs
	total := int64(h.BitmapBlocks) * bs
	at := int64(f.Layout.header().bitmapBlocks)
	if total == 0 || h.BitmapBlocks%2 != 0 {
		return &FormatError{at, "bitmap_blocks", fmt.Sprintf("%d: want an even number, one half per bitmap", h.BitmapBlocks)}
	}
	if off+total > f.size {
		return &FormatError{at, "bitmap_blocks", fmt.Sprintf("bitmaps at %#x-%#x lie past the end of the %d-byte file", off, off+total, f.size)}
	}
	if f.MaxMapnr > uint64(total/2)*8 {
		return &FormatError{at, "max_mapnr", fmt.Sprintf("%d pfns do not fit %d-byte bitmaps", f.MaxMapnr, total/2)}
	}
	b := make([]byte, total)
	if _, err := f.r.ReadAt(b, off); err != nil {
		return fmt.Errorf("reading the bitmaps at %#x: %w", off, err)
	}
	f.Present, f.Dumped = BitmapFrom(b[:total/2]), BitmapFrom(b[total/2:])
	f.dataOffset = off + total
	return nil
}

// VMCOREINFO returns the VMCOREINFO text the sub-header points at.
func (f *File) VMCOREINFO() ([]byte, bool) {
	s := f.Sub
	if s.SizeVmcoreinfo == 0 || s.SizeVmcoreinfo > maxNotes || s.OffsetVmcoreinfo < 0 || s.OffsetVmcoreinfo+int64(s.SizeVmcoreinfo) > f.size {
		return nil, false
	}
	b := make([]byte, s.SizeVmcoreinfo)
	if _, err := f.r.ReadAt(b, s.OffsetVmcoreinfo); err != nil {
		return nil, false
	}
	return b, true
}

// Split reports whether f is one part of a split dump, and the absolute
// pfns [start, end) it holds the pages of.
func (f *File) Split() (split bool, start, end uint64) {
	return f.Sub.Split != 0, f.splitStart + f.PFNOffset, f.splitEnd + f.PFNOffset
}

// descOffset is where the descriptor of dumped pfn i (relative) is.
func (f *File) descOffset(i uint64) int64 {
	return f.dataOffset + int64(f.Dumped.Rank(i)-f.rankBase)*PageDescSize
}

// PageDescAt reads the descriptor of a dumped pfn (relative to PFNOffset).
func (f *File) PageDescAt(i uint64) (PageDesc, error) {
	off := f.descOffset(i)
	var b [PageDescSize]byte
	if _, err := f.r.ReadAt(b[:], off); err != nil {
		return PageDesc{}, fmt.Errorf("reading page_desc of pfn %#x at %#x: %w", i+f.PFNOffset, off, err)
	}
	return f.Layout.ParsePageDesc(b[:]), nil
}

// ReadPage fills buf (BlockSize bytes) with page pfn (an absolute pfn).
func (f *File) ReadPage(pfn uint64, buf []byte) error {
	if len(buf) != f.BlockSize() {
		return fmt.Errorf("ReadPage: buffer of %d bytes, want %d", len(buf), f.BlockSize())
	}
	return f.ReadPagePart(pfn, 0, buf)
}

// ReadPagePart fills p from byte off of page pfn (an absolute pfn); p
// must not run past the page's end. Recently read pages are kept
// decompressed, as crash keeps 16.
func (f *File) ReadPagePart(pfn uint64, off int, p []byte) error {
	if off < 0 || off+len(p) > f.BlockSize() {
		return fmt.Errorf("ReadPagePart: bytes %d-%d of a %d-byte page", off, off+len(p), f.BlockSize())
	}
	if pfn < f.PFNOffset || pfn-f.PFNOffset >= f.MaxMapnr {
		return fmt.Errorf("%w: pfn %#x is outside the dump's %#x-%#x", ErrNoRAM, pfn, f.PFNOffset, f.PFNOffset+f.MaxMapnr)
	}
	i := pfn - f.PFNOffset
	if !f.Dumped.Test(i) {
		if !f.Present.Test(i) {
			return fmt.Errorf("%w: pfn %#x", ErrNoRAM, pfn)
		}
		return fmt.Errorf("%w (level %d): pfn %#x", ErrExcluded, f.Sub.DumpLevel, pfn)
	}
	if i < f.splitStart || i >= f.splitEnd {
		return fmt.Errorf("%w: pfn %#x (this part holds %#x-%#x)", ErrOtherPart, pfn, f.splitStart+f.PFNOffset, f.splitEnd+f.PFNOffset)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.cache {
		if c.valid && c.pfn == pfn {
			copy(p, c.data[off:])
			return nil
		}
	}
	c := &f.cache[f.next]
	f.next = (f.next + 1) % len(f.cache)
	c.valid = false
	if err := f.loadPage(i, c.data); err != nil {
		return err
	}
	c.pfn, c.valid = pfn, true
	copy(p, c.data[off:])
	return nil
}

// readStored returns dumped pfn i's descriptor and stored bytes, as they
// are in the file (for Join), checked as loadPage checks them.
func (f *File) readStored(i uint64) (PageDesc, []byte, error) {
	pfn := i + f.PFNOffset
	d, err := f.PageDescAt(i)
	if err != nil {
		return d, nil, err
	}
	if err := f.checkDesc(i, d); err != nil {
		return d, nil, err
	}
	raw := make([]byte, d.Size)
	if _, err := f.r.ReadAt(raw, d.Offset); err != nil {
		return d, nil, fmt.Errorf("reading pfn %#x at %#x: %w", pfn, d.Offset, err)
	}
	return d, raw, nil
}

func (f *File) checkDesc(i uint64, d PageDesc) error {
	pfn := i + f.PFNOffset
	switch {
	case d.Offset == 0 && d.Size == 0:
		if f.Incomplete() {
			return fmt.Errorf("%w: pfn %#x", ErrIncomplete, pfn)
		}
		return &FormatError{f.descOffset(i), "page_desc", fmt.Sprintf("pfn %#x has an empty descriptor in a dump marked complete", pfn)}
	case d.Size == 0 || d.Size > uint32(f.BlockSize()):
		return &FormatError{f.descOffset(i), "page_desc.size", fmt.Sprintf("pfn %#x: %d bytes, want 1 to %d", pfn, d.Size, f.BlockSize())}
	case d.Offset < f.dataOffset || d.Offset+int64(d.Size) > f.size:
		return &FormatError{f.descOffset(i), "page_desc.offset", fmt.Sprintf("pfn %#x: bytes %#x-%#x lie outside the page data (%#x-%#x)", pfn, d.Offset, d.Offset+int64(d.Size), f.dataOffset, f.size)}
	}
	return nil
}

func (f *File) loadPage(i uint64, dst []byte) error {
	pfn := i + f.PFNOffset
	d, err := f.PageDescAt(i)
	if err != nil {
		return err
	}
	if err := f.checkDesc(i, d); err != nil {
		return err
	}
	raw := f.raw[:d.Size]
	if _, err := f.r.ReadAt(raw, d.Offset); err != nil {
		return fmt.Errorf("reading pfn %#x at %#x: %w", pfn, d.Offset, err)
	}
	if err := f.dec.expand(dst, raw, d.Flags); err != nil {
		return fmt.Errorf("pfn %#x at %#x: %w", pfn, d.Offset, err)
	}
	return nil
}
