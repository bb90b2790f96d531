package diskdump

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"time"
)

// Signatures and versions.
const (
	// Signature starts a kdump-compressed file (KDUMP_SIGNATURE).
	Signature = "KDUMP   "
	// diskdumpSignature is the older diskdump facility's, read by nobody now.
	diskdumpSignature = "DISKDUMP"
	// HeaderVersion is the version this package writes; 6 added the
	// 64-bit pfn fields of the sub-header.
	HeaderVersion = 6
)

// Header status and page_desc flags (diskdump_mod.h).
const (
	CompressZlib     = 0x1  // DUMP_DH_COMPRESSED_ZLIB
	CompressLZO      = 0x2  // DUMP_DH_COMPRESSED_LZO
	CompressSnappy   = 0x4  // DUMP_DH_COMPRESSED_SNAPPY
	StatusIncomplete = 0x8  // DUMP_DH_COMPRESSED_INCOMPLETE: the writer did not finish
	ExcludedVmemmap  = 0x10 // DUMP_DH_EXCLUDED_VMEMMAP
	CompressZstd     = 0x20 // DUMP_DH_COMPRESSED_ZSTD
	compressMask     = CompressZlib | CompressLZO | CompressSnappy | CompressZstd
)

// Errors.
var (
	// ErrNotKdump means the data does not start with the KDUMP signature.
	ErrNotKdump = errors.New("not a kdump-compressed dump")
	// ErrFormat is a malformed header, bitmap or page descriptor.
	ErrFormat = errors.New("malformed kdump-compressed dump")
)

// FormatError is a malformed structure at a file offset.
type FormatError struct {
	Offset int64
	Field  string
	Msg    string
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("offset %#x: %s: %s", e.Offset, e.Field, e.Msg)
}

func (e *FormatError) Unwrap() error { return ErrFormat }

// Utsname is the kernel's struct new_utsname.
type Utsname struct {
	Sysname, Nodename, Release, Version, Machine, Domainname string
}

func (u *Utsname) fields() []*string {
	return []*string{&u.Sysname, &u.Nodename, &u.Release, &u.Version, &u.Machine, &u.Domainname}
}

// Header is struct disk_dump_header.
type Header struct {
	Version        int32
	Utsname        Utsname
	Timestamp      time.Time // struct timeval, second and microsecond
	Status         uint32
	BlockSize      int32 // the page size
	SubHdrSize     int32 // blocks of sub-header and notes
	BitmapBlocks   uint32
	MaxMapnr       uint32 // truncated to 32 bits; MaxMapnr64 in the sub-header is whole
	TotalRAMBlocks uint32
	DeviceBlocks   uint32
	WrittenBlocks  uint32
	CurrentCPU     uint32
	NrCPUs         int32
}

// SubHeader is struct kdump_sub_header.
type SubHeader struct {
	PhysBase         uint64
	DumpLevel        int32
	Split            int32
	StartPFN, EndPFN uint64 // 32-bit on 32-bit targets; the _64 fields are whole
	OffsetVmcoreinfo int64
	SizeVmcoreinfo   uint64
	OffsetNote       int64
	SizeNote         uint64
	OffsetEraseinfo  int64
	SizeEraseinfo    uint64
	StartPFN64       uint64
	EndPFN64         uint64
	MaxMapnr64       uint64
}

// HeaderSize is sizeof(struct disk_dump_header) in layout l.
func (l Layout) HeaderSize() int { return l.header().size }

// SubHeaderSize is sizeof(struct kdump_sub_header) in layout l.
func (l Layout) SubHeaderSize() int { return l.sub().size }

// MarshalHeader encodes h with the signature, in one block of zeros
// padded to h.BlockSize (or just the struct when BlockSize is not set).
func (l Layout) MarshalHeader(h *Header) []byte {
	o := l.header()
	b := make([]byte, max(o.size, int(h.BlockSize)))
	copy(b, Signature)
	bo := l.Order
	bo.PutUint32(b[o.version:], uint32(h.Version))
	for i, s := range h.Utsname.fields() {
		copy(b[o.utsname+i*utsLen:o.utsname+(i+1)*utsLen-1], *s) // keeps a NUL at the end
	}
	if !h.Timestamp.IsZero() {
		l.putWord(b[o.timestamp:], uint64(h.Timestamp.Unix()))
		l.putWord(b[o.timestamp+l.Word:], uint64(h.Timestamp.Nanosecond()/1000))
	}
	for _, f := range []struct {
		at int
		v  uint32
	}{{o.status, h.Status}, {o.blockSize, uint32(h.BlockSize)}, {o.subHdrSize, uint32(h.SubHdrSize)},
		{o.bitmapBlocks, h.BitmapBlocks}, {o.maxMapnr, h.MaxMapnr}, {o.totalRAMBlocks, h.TotalRAMBlocks},
		{o.deviceBlocks, h.DeviceBlocks}, {o.writtenBlocks, h.WrittenBlocks}, {o.currentCPU, h.CurrentCPU},
		{o.nrCPUs, uint32(h.NrCPUs)}} {
		bo.PutUint32(b[f.at:], f.v)
	}
	return b
}

// ParseHeader decodes a disk_dump_header from the start of b and finds its
// layout: the byte order from header_version, the width from the machine
// name, checked against block_size (a power of two from 1 KiB to 1 MiB).
func ParseHeader(b []byte) (*Header, Layout, error) {
	if len(b) < 8 || string(b[:8]) != Signature {
		if len(b) >= 8 && string(b[:8]) == diskdumpSignature {
			return nil, Layout{}, fmt.Errorf("%w: signature DISKDUMP is the retired diskdump facility's, not makedumpfile's KDUMP", ErrNotKdump)
		}
		return nil, Layout{}, ErrNotKdump
	}
	if len(b) < Layout64.HeaderSize() {
		return nil, Layout{}, &FormatError{0, "disk_dump_header", fmt.Sprintf("%d bytes, want %d", len(b), Layout64.HeaderSize())}
	}
	var order binary.ByteOrder = binary.LittleEndian
	if v := binary.LittleEndian.Uint32(b[8:]); v == 0 || v > 0xffff {
		order = binary.BigEndian
	}
	var u Utsname
	for i, s := range u.fields() {
		f := b[12+i*utsLen : 12+(i+1)*utsLen]
		if j := bytes.IndexByte(f, 0); j >= 0 {
			f = f[:j]
		}
		*s = string(f)
	}
	guess := LayoutFor(u.Machine, order)
	other := guess
	if other.Word == 4 {
		other.Word, other.Packed64 = 8, false
	} else {
		other.Word = 4
	}
	for _, l := range []Layout{guess, other} {
		o := l.header()
		bs := order.Uint32(b[o.blockSize:])
		if bs < 1<<10 || bs > 1<<20 || bits.OnesCount32(bs) != 1 {
			continue
		}
		h := &Header{Version: int32(order.Uint32(b[8:])), Utsname: u, BlockSize: int32(bs)}
		if sec := l.word(b[o.timestamp:]); sec != 0 {
			h.Timestamp = time.Unix(int64(sec), int64(l.word(b[o.timestamp+l.Word:])%1e6)*1000).UTC()
		}
		h.Status = order.Uint32(b[o.status:])
		h.SubHdrSize = int32(order.Uint32(b[o.subHdrSize:]))
		h.BitmapBlocks = order.Uint32(b[o.bitmapBlocks:])
		h.MaxMapnr = order.Uint32(b[o.maxMapnr:])
		h.TotalRAMBlocks = order.Uint32(b[o.totalRAMBlocks:])
		h.DeviceBlocks = order.Uint32(b[o.deviceBlocks:])
		h.WrittenBlocks = order.Uint32(b[o.writtenBlocks:])
		h.CurrentCPU = order.Uint32(b[o.currentCPU:])
		h.NrCPUs = int32(order.Uint32(b[o.nrCPUs:]))
		return h, l, nil
	}
	return nil, Layout{}, &FormatError{int64(guess.header().blockSize), "block_size",
		fmt.Sprintf("no power of two from 1 KiB to 1 MiB at the 32- or 64-bit offset (machine %q)", u.Machine)}
}

// MarshalSubHeader encodes s in layout l.
func (l Layout) MarshalSubHeader(s *SubHeader) []byte {
	o := l.sub()
	b := make([]byte, o.size)
	bo := l.Order
	l.putWord(b[o.physBase:], s.PhysBase)
	bo.PutUint32(b[o.dumpLevel:], uint32(s.DumpLevel))
	bo.PutUint32(b[o.split:], uint32(s.Split))
	l.putWord(b[o.startPFN:], s.StartPFN)
	l.putWord(b[o.endPFN:], s.EndPFN)
	bo.PutUint64(b[o.offVmcoreinfo:], uint64(s.OffsetVmcoreinfo))
	l.putWord(b[o.sizeVmcoreinfo:], s.SizeVmcoreinfo)
	bo.PutUint64(b[o.offNote:], uint64(s.OffsetNote))
	l.putWord(b[o.sizeNote:], s.SizeNote)
	bo.PutUint64(b[o.offEraseinfo:], uint64(s.OffsetEraseinfo))
	l.putWord(b[o.sizeEraseinfo:], s.SizeEraseinfo)
	bo.PutUint64(b[o.startPFN64:], s.StartPFN64)
	bo.PutUint64(b[o.endPFN64:], s.EndPFN64)
	bo.PutUint64(b[o.maxMapnr64:], s.MaxMapnr64)
	return b
}

// ParseSubHeader decodes a kdump_sub_header of the given header version:
// fields newer than the version read as zero, and before version 6 the
// 64-bit pfn fields are filled from the 32-bit ones.
func (l Layout) ParseSubHeader(b []byte, version int32) (*SubHeader, error) {
	o := l.sub()
	if len(b) < o.size {
		return nil, &FormatError{0, "kdump_sub_header", fmt.Sprintf("%d bytes, want %d", len(b), o.size)}
	}
	bo := l.Order
	s := &SubHeader{PhysBase: l.word(b[o.physBase:])}
	if version >= 1 {
		s.DumpLevel = int32(bo.Uint32(b[o.dumpLevel:]))
	}
	if version >= 2 {
		s.Split = int32(bo.Uint32(b[o.split:]))
		s.StartPFN, s.EndPFN = l.word(b[o.startPFN:]), l.word(b[o.endPFN:])
	}
	if version >= 3 {
		s.OffsetVmcoreinfo, s.SizeVmcoreinfo = int64(bo.Uint64(b[o.offVmcoreinfo:])), l.word(b[o.sizeVmcoreinfo:])
	}
	if version >= 4 {
		s.OffsetNote, s.SizeNote = int64(bo.Uint64(b[o.offNote:])), l.word(b[o.sizeNote:])
	}
	if version >= 5 {
		s.OffsetEraseinfo, s.SizeEraseinfo = int64(bo.Uint64(b[o.offEraseinfo:])), l.word(b[o.sizeEraseinfo:])
	}
	if version >= 6 {
		s.StartPFN64, s.EndPFN64, s.MaxMapnr64 = bo.Uint64(b[o.startPFN64:]), bo.Uint64(b[o.endPFN64:]), bo.Uint64(b[o.maxMapnr64:])
	} else {
		s.StartPFN64, s.EndPFN64 = s.StartPFN, s.EndPFN
	}
	return s, nil
}

// PageDesc is page_desc_t: where a dumped page's bytes are and how they
// are stored.
type PageDesc struct {
	Offset    int64
	Size      uint32
	Flags     uint32 // CompressZlib, CompressLZO, CompressSnappy, CompressZstd or 0 (stored)
	PageFlags uint64 // makedumpfile writes 0
}

// MarshalPageDesc encodes d into b (PageDescSize bytes).
func (l Layout) MarshalPageDesc(b []byte, d PageDesc) {
	l.Order.PutUint64(b, uint64(d.Offset))
	l.Order.PutUint32(b[8:], d.Size)
	l.Order.PutUint32(b[12:], d.Flags)
	l.Order.PutUint64(b[16:], d.PageFlags)
}

// ParsePageDesc decodes PageDescSize bytes.
func (l Layout) ParsePageDesc(b []byte) PageDesc {
	return PageDesc{Offset: int64(l.Order.Uint64(b)), Size: l.Order.Uint32(b[8:]), Flags: l.Order.Uint32(b[12:]), PageFlags: l.Order.Uint64(b[16:])}
}
