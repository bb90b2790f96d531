package kexec

import (
	"encoding/binary"
	"fmt"
)

// ARM zImage header (arch/arm/boot/compressed/head.S): at 0x24 the magic
// 0x016f2818, the image's start and end; at 0x30 an endianness word; at
// 0x34 0x45454545 and the offset of a tag table (since 3.17) whose
// ZIMAGE_TAG_KRNL_SIZE ("KLSZ") tag tells the decompressed size.
const (
	zImageMagic      = 0x016f2818
	zImageTableMagic = 0x45454545
	tagKrnlSize      = 0x5a534c4b
)

// ZImage is what loading needs to know of an ARM zImage.
type ZImage struct {
	Size uint32 // end - start: the bytes the loader copies
	// Edata and BSS are the decompressed kernel's text+data and bss sizes
	// from the KRNL_SIZE tag; 0 when the image has no tag.
	Edata, BSS uint32
}

// ParseZImage reads the zImage header and tag table.
func ParseZImage(b []byte) (*ZImage, error) {
	if len(b) < 0x30 || binary.LittleEndian.Uint32(b[0x24:]) != zImageMagic {
		return nil, fmt.Errorf("not an ARM zImage: no magic %#x at offset 0x24", zImageMagic)
	}
	start, end := binary.LittleEndian.Uint32(b[0x28:]), binary.LittleEndian.Uint32(b[0x2c:])
	if end <= start || uint64(end-start) > uint64(len(b)) {
		return nil, fmt.Errorf("zImage start %#x end %#x do not fit the %d-byte file", start, end, len(b))
	}
	z := &ZImage{Size: end - start}
	if len(b) < 0x3c || binary.LittleEndian.Uint32(b[0x34:]) != zImageTableMagic {
		return z, nil
	}
	// Tags: u32 size in words (header included), u32 tag, payload; a
	// zero size ends the table.
	for off := uint64(binary.LittleEndian.Uint32(b[0x38:])); off+8 <= uint64(len(b)); {
		words, tag := binary.LittleEndian.Uint32(b[off:]), binary.LittleEndian.Uint32(b[off+4:])
		if words == 0 {
			break
		}
		if tag == tagKrnlSize && words >= 4 && off+16 <= uint64(len(b)) {
			ptr := uint64(binary.LittleEndian.Uint32(b[off+8:]))
			if ptr+4 > uint64(len(b)) {
				return nil, fmt.Errorf("zImage KRNL_SIZE tag at %#x points past the file (%#x)", off, ptr)
			}
			z.Edata = binary.LittleEndian.Uint32(b[ptr:])
			z.BSS = binary.LittleEndian.Uint32(b[off+12:])
			break
		}
		off += uint64(words) * 4
	}
	return z, nil
}

// Space is the memory the kernel needs from its load address before
// anything else may be placed: the decompressed text+data, then the
// zImage relocated above it with the decompressor's stack and heap
// (0x11000 bytes). Without a size tag the decompressed kernel is
// estimated at four times the compressed one.
func (z *ZImage) Space() uint64 {
	need := uint64(z.Size) + 0x11000
	if z.Edata != 0 {
		return uint64(z.Edata) + need
	}
	return 4*uint64(z.Size) + need
}
