package kexec

import (
	"encoding/binary"
	"fmt"
)

// The arm64 Image header (arch/arm64/include/asm/image.h; the rules in
// Documentation/arch/arm64/booting.rst): two code words, then
// little-endian text_offset at 8, image_size at 16 and flags at 24, and the
// magic "ARM\x64" at 56.
const (
	arm64ImageHeaderSize = 64
	arm64ImageMagic      = "ARM\x64"
	// Flags: bit 0 big-endian kernel, bits 1-2 page size (0 unspecified,
	// 1 4K, 2 16K, 3 64K), bit 3 "may be placed anywhere in RAM".
	arm64FlagBE       = 1 << 0
	arm64FlagPageMask = 3 << 1
	arm64FlagAnywhere = 1 << 3
	// arm64KernelAlign is the alignment booting.rst asks of the base the
	// Image is placed text_offset bytes above (MIN_KIMG_ALIGN).
	arm64KernelAlign = 2 << 20
)

// ARM64Image is what loading needs to know of an arm64 Image.
type ARM64Image struct {
	Size       uint64 // the file's length: the bytes the loader copies
	TextOffset uint64 // from a 2 MiB-aligned base to the first instruction
	ImageSize  uint64 // the memory the kernel owns from there, bss included
	Flags      uint64
}

// PageSize is the page size the kernel was built for, 0 when the header
// does not say (kernels before 3.17).
func (im *ARM64Image) PageSize() uint64 {
	switch (im.Flags & arm64FlagPageMask) >> 1 {
	case 1:
		return 4 << 10
	case 2:
		return 16 << 10
	case 3:
		return 64 << 10
	}
	return 0
}

// Anywhere reports bit 3 of the flags: the kernel can use memory below
// its own base. Without it (kernels before 4.6) RAM below the base is
// lost to the kernel, which a crash kernel does not mind: the capture
// kernel's RAM is the crash region, and the Image is placed at its start.
func (im *ARM64Image) Anywhere() bool { return im.Flags&arm64FlagAnywhere != 0 }

// ParseARM64Image reads and checks the header of an arm64 Image.
func ParseARM64Image(b []byte) (*ARM64Image, error) {
	if len(b) < arm64ImageHeaderSize || string(b[56:60]) != arm64ImageMagic {
		return nil, fmt.Errorf(`not an arm64 Image: no magic "ARM\x64" at offset 56 (a compressed Image.gz, a zImage or a vmlinux ELF is not loadable)`)
	}
	le := binary.LittleEndian
	im := &ARM64Image{Size: uint64(len(b)), TextOffset: le.Uint64(b[8:]), ImageSize: le.Uint64(b[16:]), Flags: le.Uint64(b[24:])}
	switch {
	case im.ImageSize == 0:
		// booting.rst: before 3.17 image_size is 0 and text_offset's
		// endianness unknown; the kernel's own loader refuses these too.
		return nil, fmt.Errorf("arm64 Image: image_size is 0 (a kernel older than 3.17): its memory footprint is unknown")
	case im.ImageSize < im.Size:
		return nil, fmt.Errorf("arm64 Image: image_size %#x is smaller than the %#x-byte file: the header or the file is damaged", im.ImageSize, im.Size)
	case im.ImageSize > 1<<32:
		return nil, fmt.Errorf("arm64 Image: image_size %#x is not plausible (over 4 GiB)", im.ImageSize)
	case im.TextOffset >= arm64KernelAlign || im.TextOffset%(4<<10) != 0:
		return nil, fmt.Errorf("arm64 Image: text_offset %#x: want a multiple of 4 KiB below 2 MiB (0 since Linux 5.8, 0x80000 before)", im.TextOffset)
	case im.Flags&arm64FlagBE != 0:
		return nil, fmt.Errorf("arm64 Image: flags %#x say big-endian: kdumpkit loads little-endian kernels from a little-endian one", im.Flags)
	}
	return im, nil
}
