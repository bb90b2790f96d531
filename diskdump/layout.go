package diskdump

import (
	"encoding/binary"
	"strings"
)

// Layout is the C ABI of the kernel a dump came from, which fixes the
// sizes and offsets of the header structures.
type Layout struct {
	Order binary.ByteOrder
	// Word is sizeof(long) and of a pointer: 4 or 8.
	Word int
	// Packed64 is true for 32-bit ABIs that align 64-bit members to 4
	// bytes (i386); ARM EABI and MIPS align them to 8.
	Packed64 bool
}

// Layout64 is a little-endian 64-bit target (x86_64, arm64, riscv64...).
var Layout64 = Layout{Order: binary.LittleEndian, Word: 8}

// LayoutARM is 32-bit ARM (EABI, little-endian).
var LayoutARM = Layout{Order: binary.LittleEndian, Word: 4}

// LayoutFor returns the layout of a kernel by its utsname machine
// ("armv7l", "aarch64", "x86_64", "i686") and byte order.
func LayoutFor(machine string, order binary.ByteOrder) Layout {
	l := Layout{Order: order, Word: 8}
	if Is32Bit(machine) {
		l.Word = 4
		l.Packed64 = isI386(machine)
	}
	return l
}

// Is32Bit tells the 32-bit machines among utsname machine names.
func Is32Bit(machine string) bool {
	switch {
	case isI386(machine), strings.HasPrefix(machine, "arm") && machine != "arm64",
		machine == "mips", machine == "ppc", machine == "s390", machine == "riscv32":
		return true
	}
	return false
}

func isI386(m string) bool {
	return len(m) == 4 && m[0] == 'i' && m[1] >= '3' && m[1] <= '6' && m[2:] == "86"
}

// IsARM32 reports a 32-bit ARM machine name: its bitmaps count pfns from
// phys_base (makedumpfile.h's ARCH_PFN_OFFSET for __arm__, crash's
// paddr_to_pfn under #ifdef ARM).
func IsARM32(machine string) bool {
	return strings.HasPrefix(machine, "arm") && machine != "arm64"
}

// PFNOffset is the pfn that bit 0 of the bitmaps stands for.
func PFNOffset(machine string, physBase uint64, blockSize int) uint64 {
	if IsARM32(machine) && blockSize > 0 {
		return physBase / uint64(blockSize)
	}
	return 0
}

// cstruct lays out C struct members in order with natural alignment.
type cstruct struct {
	off, align int
}

// field returns the offset of the next member of size and alignment.
func (c *cstruct) field(size, align int) int {
	c.off = (c.off + align - 1) &^ (align - 1)
	o := c.off
	c.off += size
	c.align = max(c.align, align)
	return o
}

// size is sizeof the struct: its end rounded to its alignment.
func (c *cstruct) size() int { return (c.off + c.align - 1) &^ (c.align - 1) }

func (l Layout) align64() int {
	if l.Packed64 {
		return 4
	}
	return 8
}

// headerLayout holds the offsets of struct disk_dump_header's members.
type headerLayout struct {
	version, utsname, timestamp, status, blockSize, subHdrSize, bitmapBlocks,
	maxMapnr, totalRAMBlocks, deviceBlocks, writtenBlocks, currentCPU, nrCPUs, size int
}

// utsLen is one new_utsname string: __NEW_UTS_LEN + 1.
const utsLen = 65

func (l Layout) header() headerLayout {
	var c cstruct
	var h headerLayout
	c.field(8, 1) // signature
	h.version = c.field(4, 4)
	h.utsname = c.field(6*utsLen, 1)
	h.timestamp = c.field(2*l.Word, l.Word) // struct timeval: two longs
	h.status = c.field(4, 4)
	h.blockSize = c.field(4, 4)
	h.subHdrSize = c.field(4, 4)
	h.bitmapBlocks = c.field(4, 4)
	h.maxMapnr = c.field(4, 4)
	h.totalRAMBlocks = c.field(4, 4)
	h.deviceBlocks = c.field(4, 4)
	h.writtenBlocks = c.field(4, 4)
	h.currentCPU = c.field(4, 4)
	h.nrCPUs = c.field(4, 4)
	c.field(0, l.Word) // tasks[0]: aligns the end to a pointer
	h.size = c.size()
	return h
}

// subLayout holds the offsets of struct kdump_sub_header's members.
type subLayout struct {
	physBase, dumpLevel, split, startPFN, endPFN, offVmcoreinfo, sizeVmcoreinfo,
	offNote, sizeNote, offEraseinfo, sizeEraseinfo, startPFN64, endPFN64, maxMapnr64, size int
}

func (l Layout) sub() subLayout {
	var c cstruct
	var s subLayout
	w, a := l.Word, l.align64()
	s.physBase = c.field(w, w)
	s.dumpLevel = c.field(4, 4)
	s.split = c.field(4, 4)
	s.startPFN = c.field(w, w)
	s.endPFN = c.field(w, w)
	s.offVmcoreinfo = c.field(8, a) // off_t: makedumpfile builds with 64-bit file offsets
	s.sizeVmcoreinfo = c.field(w, w)
	s.offNote = c.field(8, a)
	s.sizeNote = c.field(w, w)
	s.offEraseinfo = c.field(8, a)
	s.sizeEraseinfo = c.field(w, w)
	s.startPFN64 = c.field(8, a)
	s.endPFN64 = c.field(8, a)
	s.maxMapnr64 = c.field(8, a)
	s.size = c.size()
	return s
}

// PageDescSize is sizeof(page_desc_t): off_t offset, unsigned int size,
// unsigned int flags, unsigned long long page_flags — 24 bytes on every ABI.
const PageDescSize = 24

func (l Layout) word(b []byte) uint64 {
	if l.Word == 4 {
		return uint64(l.Order.Uint32(b))
	}
	return l.Order.Uint64(b)
}

func (l Layout) putWord(b []byte, v uint64) {
	if l.Word == 4 {
		l.Order.PutUint32(b, uint32(v))
		return
	}
	l.Order.PutUint64(b, v)
}
