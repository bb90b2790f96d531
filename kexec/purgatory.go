package kexec

import "encoding/binary"

// arm64Purgatory is the code kexec_load's entry point runs on arm64: the
// kernel (arch/arm64/kernel/machine_kexec.c, 6.12) jumps to the entry
// through cpu_soft_restart with the MMU off and x0 = kimage->arch.dtb_mem,
// which only kexec_file_load sets; after kexec_load x0 is 0. The Image
// wants x0 = the DTB's physical address and x1-x3 = 0
// (Documentation/arch/arm64/booting.rst), so the entry is this, position
// independent (the addresses are PC-relative literals):
//
//	0x00  ldr  x0, 0x18     // 0x580000c0: x0 = the DTB's physical address
//	0x04  ldr  x17, 0x20    // 0x580000f1: x17 = the Image's first instruction
//	0x08  mov  x1, xzr      // 0xaa1f03e1: x1-x3 are reserved and must be 0
//	0x0c  mov  x2, xzr      // 0xaa1f03e2
//	0x10  mov  x3, xzr      // 0xaa1f03e3
//	0x14  br   x17          // 0xd61f0220
//	0x18  .quad DTB
//	0x20  .quad ENTRY
//
// kexec-tools' purgatory does the same after checking the segments'
// SHA-256 and printing to a UART; neither is needed to boot.
func arm64Purgatory(dtb, entry uint64) []byte {
	words := []uint32{
		ldrLiteral64(0, 0x18-0x00),
		ldrLiteral64(17, 0x20-0x04),
		movFromZR(1),
		movFromZR(2),
		movFromZR(3),
		brReg(17),
	}
	b := make([]byte, 0, 0x28)
	for _, w := range words {
		b = binary.LittleEndian.AppendUint32(b, w)
	}
	b = binary.LittleEndian.AppendUint64(b, dtb)
	return binary.LittleEndian.AppendUint64(b, entry)
}

// ldrLiteral64 is LDR Xt, label: opc 01, 011000, imm19 (the word offset
// from this instruction), Rt. Instructions are little-endian whatever the
// data endianness (ARM ARM, B2.6.2).
func ldrLiteral64(rt uint32, byteOffset int32) uint32 {
	return 0x58000000 | (uint32(byteOffset/4)&0x7ffff)<<5 | rt
}

// movFromZR is MOV Xd, XZR, the alias of ORR Xd, XZR, XZR.
func movFromZR(rd uint32) uint32 { return 0xaa1f03e0 | rd }

// brReg is BR Xn.
func brReg(rn uint32) uint32 { return 0xd61f0000 | rn<<5 }
