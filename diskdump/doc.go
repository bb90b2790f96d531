// Package diskdump reads and writes makedumpfile's kdump-compressed dump
// format ("KDUMP   ", header version 6), the format of `makedumpfile -c/-l/-p/-z`
// that crash, makedumpfile and libkdumpfile read, and its flattened form
// (`makedumpfile -F`), a stream of (offset, size) blocks for targets that
// cannot seek.
//
// The layout follows makedumpfile's diskdump_mod.h and makedumpfile.h and
// crash's diskdump.c/diskdump.h (learned from, not copied):
//
//	block 0          struct disk_dump_header
//	blocks 1..S      struct kdump_sub_header, then the ELF notes (PRSTATUS,
//	                 VMCOREINFO, ...) right after it
//	bitmap blocks    1st bitmap: pfns that are RAM; 2nd bitmap: pfns dumped
//	                 (each half of header.bitmap_blocks)
//	page_desc table  one 24-byte descriptor per dumped pfn, in pfn order
//	page data        each page stored or compressed on its own (zlib, lzo,
//	                 snappy or zstd; this package writes zstd, zlib or none)
//
// Structure sizes follow the dumped kernel's C ABI, not the host's: the
// header's struct timeval and every `long` are the target's width, and
// 32-bit ARM (EABI) aligns the sub-header's 64-bit off_t members to 8 bytes
// where i386 does not (crash's arm_kdump_header_adjust). Layout computes
// both. On 32-bit ARM the bitmaps count pfns from phys_base, not from 0
// (makedumpfile's ARCH_PFN_OFFSET).
//
// The package is dependency-free (the compressors aside) so that the
// capture tool on the board and the analyzer on the host share it.
package diskdump
