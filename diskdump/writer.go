package diskdump

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"time"
)

// Config describes the dump a Writer makes.
type Config struct {
	Layout    Layout
	Utsname   Utsname
	Timestamp time.Time
	BlockSize int    // the page size
	PhysBase  uint64 // kdump_sub_header.phys_base (lowest RAM address on ARM)
	DumpLevel int    // the makedumpfile -d bitmask the dumped bitmap was made with
	MaxMapnr  uint64 // pfns the bitmaps cover, from PFNOffset
	NrCPUs    int
	// Notes is the ELF notes' payload (the vmcore's PT_NOTE contents,
	// concatenated); its VMCOREINFO note is found and pointed at.
	Notes       []byte
	Compression Compression
	// Part, when set, makes the file one part of a split dump
	// (makedumpfile --split) holding the pages of pfns [PartStart,
	// PartEnd), relative to PFNOffset; its bitmaps stay whole.
	Part               bool
	PartStart, PartEnd uint64
}

// Buffer sizes: what the writer holds beyond the page it is given.
const (
	descChunk = 4096    // page descriptors per write (96 KiB)
	dataChunk = 1 << 20 // page data per write
)

// Writer writes a kdump-compressed dump through an io.WriterAt: a file,
// or a FlatWriter for streams. Pages come in pfn order; nothing but the
// bitmaps, a chunk of descriptors and a chunk of page data is held.
//
// The header is what makes the file a finished dump: on a seekable output
// it is first written with StatusIncomplete and rewritten without it by
// Close; on a FlatWriter (which cannot overwrite) it is written only by
// Close, so a cut stream has no header at all.
type Writer struct {
	out     io.WriterAt
	cfg     Config
	hdr     Header
	dumped  *Bitmap
	pfnOff  uint64
	total   uint64 // dumped pfns: descriptors in the table
	written uint64
	last    uint64 // last pfn written + 1 (relative)
	// partStart, partEnd: the pfns this file holds pages of (a split part's).
	partStart, partEnd uint64

	tableOff, dataOff int64 // where the next descriptor chunk and data chunk go
	desc              []byte
	data              []byte
	zeroDesc          PageDesc
	comp              *compressor
	cbuf              []byte
	stream            bool
	err               error
}

// NewWriter writes the header (unless out is a stream), sub-header,
// notes and both bitmaps. present marks RAM pfns, dumped the pfns that
// will be written; both are relative to PFNOffset of the config's machine.
func NewWriter(out io.WriterAt, cfg Config, present, dumped *Bitmap) (*Writer, error) {
	l, bs := cfg.Layout, cfg.BlockSize
	if bs < 1024 || bs&(bs-1) != 0 {
		return nil, fmt.Errorf("block size %d: want a power of two of at least 1024", bs)
	}
	if present.Len() < cfg.MaxMapnr || dumped.Len() < cfg.MaxMapnr {
		return nil, fmt.Errorf("bitmaps of %d and %d pfns for max_mapnr %d", present.Len(), dumped.Len(), cfg.MaxMapnr)
	}
	comp, err := newCompressor(cfg.Compression)
	if err != nil {
		return nil, err
	}
	_, stream := out.(*FlatWriter)
	w := &Writer{out: out, cfg: cfg, dumped: dumped, comp: comp, stream: stream,
		pfnOff: PFNOffset(cfg.Utsname.Machine, cfg.PhysBase, bs), cbuf: make([]byte, 0, 2*bs)}
	subSize := l.sub().size
	subBlocks := (subSize + len(cfg.Notes) + bs - 1) / bs
	bitmapBytes := int64((cfg.MaxMapnr+7)/8+uint64(bs)-1) / int64(bs) * int64(bs) // each bitmap block-aligned, as crash needs
	w.hdr = Header{Version: HeaderVersion, Utsname: cfg.Utsname, Timestamp: cfg.Timestamp,
		Status: uint32(cfg.Compression) | StatusIncomplete, BlockSize: int32(bs), SubHdrSize: int32(subBlocks),
		BitmapBlocks: uint32(2 * bitmapBytes / int64(bs)), MaxMapnr: uint32(min(cfg.MaxMapnr, 1<<32-1)), NrCPUs: int32(cfg.NrCPUs)}
	sub := SubHeader{PhysBase: cfg.PhysBase, DumpLevel: int32(cfg.DumpLevel), MaxMapnr64: cfg.MaxMapnr}
	w.partEnd = cfg.MaxMapnr
	if cfg.Part {
		if cfg.PartStart > cfg.PartEnd || cfg.PartEnd > cfg.MaxMapnr {
			return nil, fmt.Errorf("split part %#x-%#x outside max_mapnr %#x", cfg.PartStart, cfg.PartEnd, cfg.MaxMapnr)
		}
		sub.Split, sub.StartPFN64, sub.EndPFN64 = 1, cfg.PartStart, cfg.PartEnd
		sub.StartPFN, sub.EndPFN = min(cfg.PartStart, 1<<32-1), min(cfg.PartEnd, 1<<32-1)
		w.partStart, w.partEnd = cfg.PartStart, cfg.PartEnd
	}
	if len(cfg.Notes) > 0 {
		sub.OffsetNote, sub.SizeNote = int64(bs+subSize), uint64(len(cfg.Notes))
		if at, n, ok := findNote(cfg.Notes, l.Order, "VMCOREINFO"); ok {
			sub.OffsetVmcoreinfo, sub.SizeVmcoreinfo = sub.OffsetNote+int64(at), uint64(n)
		}
	}
	if !stream {
		if err := w.put(l.MarshalHeader(&w.hdr), 0); err != nil {
			return nil, err
		}
	}
	if err := w.put(append(l.MarshalSubHeader(&sub), cfg.Notes...), int64(bs)); err != nil {
		return nil, err
	}
	bmOff := int64(1+subBlocks) * int64(bs)
	for i, m := range []*Bitmap{present, dumped} {
		b := make([]byte, bitmapBytes)
		copy(b, m.Bytes()[:min(len(m.Bytes()), int(bitmapBytes))])
		clearFrom(b, cfg.MaxMapnr)
		if err := w.put(b, bmOff+int64(i)*bitmapBytes); err != nil {
			return nil, err
		}
	}
	whole := BitmapFrom(clearFrom(append([]byte(nil), dumped.Bytes()...), cfg.MaxMapnr))
	w.total = whole.Rank(w.partEnd) - whole.Rank(w.partStart)
	w.tableOff = bmOff + 2*bitmapBytes
	w.dataOff = w.tableOff + int64(w.total)*PageDescSize
	if cfg.DumpLevel&1 != 0 { // one shared page of zeros, as makedumpfile's pd_zero
		w.zeroDesc = PageDesc{Offset: w.dataOff, Size: uint32(bs)}
		w.data = append(w.data, make([]byte, bs)...)
	}
	return w, nil
}

// clearFrom clears the bits from n on, so a bitmap never claims pfns past
// max_mapnr.
func clearFrom(b []byte, n uint64) []byte {
	for i := n; i < uint64(len(b))*8; i++ {
		if i%8 == 0 {
			clear(b[i/8:])
			break
		}
		b[i/8] &^= 1 << (i % 8)
	}
	return b
}

func (w *Writer) put(b []byte, off int64) error {
	if w.err != nil {
		return w.err
	}
	if _, err := w.out.WriteAt(b, off); err != nil {
		w.err = fmt.Errorf("writing %d bytes at %#x: %w", len(b), off, err)
	}
	return w.err
}

// Written is the number of pages written so far, of Total.
func (w *Writer) Written() uint64 { return w.written }

// Total is the number of pages the dump will hold.
func (w *Writer) Total() uint64 { return w.total }

// PFNOffset is the pfn of bitmap bit 0.
func (w *Writer) PFNOffset() uint64 { return w.pfnOff }

// WritePage stores page (BlockSize bytes) of pfn, relative to PFNOffset.
// Every pfn of the dumped bitmap must be written, in increasing order.
func (w *Writer) WritePage(pfn uint64, page []byte) error {
	if w.err != nil {
		return w.err
	}
	if len(page) != w.cfg.BlockSize {
		return fmt.Errorf("pfn %#x: page of %d bytes, want %d", pfn+w.pfnOff, len(page), w.cfg.BlockSize)
	}
	if err := w.next(pfn); err != nil {
		return err
	}
	if w.cfg.DumpLevel&1 != 0 && isZero(page) {
		return w.add(w.zeroDesc, nil)
	}
	stored, flags := w.comp.compress(page, w.cbuf)
	return w.add(PageDesc{Size: uint32(len(stored)), Flags: flags}, stored)
}

// next checks that pfn is the next page this file holds.
func (w *Writer) next(pfn uint64) error {
	switch {
	case !w.dumped.Test(pfn) || pfn >= w.cfg.MaxMapnr:
		return fmt.Errorf("pfn %#x is not in the dumped bitmap", pfn+w.pfnOff)
	case pfn < w.partStart || pfn >= w.partEnd:
		return fmt.Errorf("pfn %#x is outside this split part's %#x-%#x", pfn+w.pfnOff, w.partStart+w.pfnOff, w.partEnd+w.pfnOff)
	case pfn < w.last:
		return fmt.Errorf("pfn %#x written after pfn %#x: pages go in pfn order", pfn+w.pfnOff, w.last-1+w.pfnOff)
	}
	if next, _ := w.dumped.Next(max(w.last, w.partStart)); next != pfn {
		return fmt.Errorf("pfn %#x written before dumped pfn %#x", pfn+w.pfnOff, next+w.pfnOff)
	}
	w.last = pfn + 1
	return nil
}

// WriteStored stores a page already in its stored form (flags say how),
// as Join copies pages between dumps without expanding them; a stored
// page of zeros becomes the shared zero page at dump level 1 and above.
func (w *Writer) WriteStored(pfn uint64, stored []byte, flags uint32) error {
	if w.err != nil {
		return w.err
	}
	if len(stored) == 0 || len(stored) > w.cfg.BlockSize || flags&compressMask == 0 && len(stored) != w.cfg.BlockSize {
		return fmt.Errorf("pfn %#x: stored page of %d bytes (flags %#x), block size %d", pfn+w.pfnOff, len(stored), flags, w.cfg.BlockSize)
	}
	if err := w.next(pfn); err != nil {
		return err
	}
	if flags&compressMask == 0 && w.cfg.DumpLevel&1 != 0 && isZero(stored) {
		return w.add(w.zeroDesc, nil)
	}
	return w.add(PageDesc{Size: uint32(len(stored)), Flags: flags}, stored)
}

// add appends one descriptor, and the page's stored bytes (nil for the
// shared zero page, whose descriptor is d as it is).
func (w *Writer) add(d PageDesc, stored []byte) error {
	if stored != nil {
		d.Offset = w.dataOff + int64(len(w.data))
		w.data = append(w.data, stored...)
	}
	w.desc = append(w.desc, make([]byte, PageDescSize)...)
	w.cfg.Layout.MarshalPageDesc(w.desc[len(w.desc)-PageDescSize:], d)
	w.written++
	if len(w.desc) >= descChunk*PageDescSize {
		w.flushDesc()
	}
	if len(w.data) >= dataChunk {
		w.flushData()
	}
	return w.err
}

func (w *Writer) flushDesc() {
	if len(w.desc) > 0 && w.put(w.desc, w.tableOff) == nil {
		w.tableOff += int64(len(w.desc))
		w.desc = w.desc[:0]
	}
}

func (w *Writer) flushData() {
	if len(w.data) > 0 && w.put(w.data, w.dataOff) == nil {
		w.dataOff += int64(len(w.data))
		w.data = w.data[:0]
	}
}

func isZero(b []byte) bool {
	for len(b) >= 8 {
		if binary.LittleEndian.Uint64(b) != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// Close flushes what is buffered and writes the final header, whose
// status no longer says incomplete; it fails, leaving the dump marked
// incomplete, when pages of the dumped bitmap were not written. It does
// not close the output.
func (w *Writer) Close() error {
	w.flushDesc()
	w.flushData()
	if w.err != nil {
		return w.err
	}
	if w.written != w.total {
		return fmt.Errorf("%d of %d dumped pages written: the dump stays marked incomplete", w.written, w.total)
	}
	w.hdr.Status &^= StatusIncomplete
	return w.put(w.cfg.Layout.MarshalHeader(&w.hdr), 0)
}

// Size is the length of the dump file: where the page data ends.
func (w *Writer) Size() int64 { return w.dataOff + int64(len(w.data)) }

// findNote returns the offset and size of the descriptor of the first note
// named name in an ELF note payload.
func findNote(notes []byte, bo binary.ByteOrder, name string) (int, int, bool) {
	for off := 0; off+12 <= len(notes); {
		nsz, dsz := uint64(bo.Uint32(notes[off:])), uint64(bo.Uint32(notes[off+4:]))
		if nsz == 0 && dsz == 0 || nsz > uint64(len(notes)) || dsz > uint64(len(notes)) {
			break
		}
		descOff := off + 12 + int(nsz+3)&^3
		if descOff+int(dsz) > len(notes) {
			break
		}
		if got := bytes.TrimRight(notes[off+12:off+12+int(nsz)], "\x00"); string(got) == name {
			return descOff, int(dsz), true
		}
		off = descOff + int(dsz+3)&^3
	}
	return 0, 0, false
}
