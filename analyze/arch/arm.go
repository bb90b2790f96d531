package arch

import (
	"encoding/binary"
	"fmt"

	"github.com/kdumpkit/kdumpkit/analyze/dump"
	"github.com/kdumpkit/kdumpkit/analyze/vmcoreinfo"
)

// arm is ARM32 (ARMv7-A, arch/arm).
type arm struct{}

func (arm) Name() string { return "arm" }
func (arm) PtrSize() int { return 4 }

// Registers: pt_regs is r0–r15, cpsr, orig_r0
// (arch/arm/include/uapi/asm/ptrace.h).
func (arm) Registers() RegisterSet {
	return RegisterSet{
		Names: []string{"r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10",
			"fp", "ip", "sp", "lr", "pc", "cpsr", "orig_r0"},
		PC: 15, SP: 13, FP: 11, LR: 14, Shown: 17,
	}
}

// armLowmemEnd bounds the linear map: lowmem ends at the latest below the
// 240 MiB vmalloc minimum + 8 MiB gap under VMALLOC_END (0xff800000), so
// no larger RAM span can make a vmalloc address look linear.
const armLowmemEnd = 0xef800000

type armTranslator struct {
	loads      loadsTranslator
	pageOffset uint64 // PAGE_OFFSET: 0xc0000000, or 0x80000000 with VMSPLIT_2G (vexpress_defconfig)
	physOffset uint64 // PHYS_OFFSET: RAM's start
	linearEnd  uint64
	pgd        uint64 // physical address of swapper_pg_dir
	lpae       bool
	mem        PhysReader
}

// NewTranslator reads PHYS_OFFSET from the lowest PT_LOAD and PAGE_OFFSET
// from that load's p_vaddr (kexec writes p_vaddr = p_paddr + PAGE_OFFSET -
// PHYS_OFFSET), and finds swapper_pg_dir for everything outside the
// linear map: vmalloc, modules and VMAP_STACK kernel stacks.
func (arm) NewTranslator(mem PhysReader, info *vmcoreinfo.Info, loads []dump.Segment) (Translator, error) {
	t := &armTranslator{loads: loads, mem: mem, lpae: info.Config("ARM_LPAE")}
	var top uint64
	found := false
	for _, s := range loads {
		if !found || s.Paddr < t.physOffset {
			t.physOffset = s.Paddr
			t.pageOffset = s.Vaddr - s.Paddr
			found = true
		}
		top = max(top, s.Paddr+s.Memsz)
	}
	t.pageOffset += t.physOffset
	if !found || t.pageOffset < 0x40000000 {
		return nil, fmt.Errorf("ARM PT_LOADs give PAGE_OFFSET %#x: want the linear map's p_vaddr in the headers", t.pageOffset)
	}
	t.linearEnd = min(t.pageOffset+(top-t.physOffset), armLowmemEnd)
	swapper, err := info.Symbol("swapper_pg_dir")
	if err != nil {
		return nil, err
	}
	if swapper < t.pageOffset || swapper >= t.linearEnd {
		return nil, fmt.Errorf("swapper_pg_dir %#x is outside the linear map %#x-%#x", swapper, t.pageOffset, t.linearEnd)
	}
	t.pgd = swapper - t.pageOffset + t.physOffset
	return t, nil
}

func (t *armTranslator) Translate(va uint64) (uint64, error) {
	if va >= t.pageOffset && va < t.linearEnd {
		return va - t.pageOffset + t.physOffset, nil
	}
	if t.lpae {
		return t.walkLPAE(va)
	}
	return t.walkShort(va)
}

func (t *armTranslator) read32(pa uint64) (uint64, error) {
	var b [4]byte
	if err := t.mem.ReadPhys(b[:], pa); err != nil {
		return 0, err
	}
	return uint64(binary.LittleEndian.Uint32(b[:])), nil
}

// walkShort follows ARMv7 short descriptors (ARM ARM B3.5). Linux keeps
// its pgd as 2048 pairs of 1 MiB entries, which is exactly the hardware's
// 4096-entry first-level table, so the hardware layout is walked.
func (t *armTranslator) walkShort(va uint64) (uint64, error) {
	l1, err := t.read32(t.pgd + (va>>20)*4)
	if err != nil {
		return 0, fmt.Errorf("first-level descriptor of %#x: %w", va, err)
	}
	switch l1 & 3 {
	case 2:
		if l1&(1<<18) != 0 { // supersection: 16 MiB
			return l1&0xff000000 | (l1>>20&0xf)<<32 | (l1>>5&0xf)<<36 | va&0xffffff, nil
		}
		return l1&0xfff00000 | va&0xfffff, nil
	case 1:
		l2, err := t.read32(l1&0xfffffc00 + (va>>12&0xff)*4)
		if err != nil {
			return 0, fmt.Errorf("second-level descriptor of %#x: %w", va, err)
		}
		switch {
		case l2&2 != 0: // small page, 4 KiB
			return l2&0xfffff000 | va&0xfff, nil
		case l2&3 == 1: // large page, 64 KiB
			return l2&0xffff0000 | va&0xffff, nil
		}
		return 0, fmt.Errorf("%w: %#x (second-level descriptor %#x)", ErrNotMapped, va, l2)
	}
	return 0, fmt.Errorf("%w: %#x (first-level descriptor %#x)", ErrNotMapped, va, l1)
}

// walkLPAE follows the long-descriptor format (ARM ARM B3.6): 3 levels
// of 64-bit entries, 1 GiB, 2 MiB and 4 KiB, output addresses to 40 bits.
func (t *armTranslator) walkLPAE(va uint64) (uint64, error) {
	const addrMask = 0xfffffff000
	table := t.pgd
	for level, shift := range []uint{30, 21, 12} {
		var b [8]byte
		bits := uint64(0x1ff)
		if level == 0 {
			bits = 3
		}
		if err := t.mem.ReadPhys(b[:], table+(va>>shift&bits)*8); err != nil {
			return 0, fmt.Errorf("level-%d descriptor of %#x: %w", level+1, va, err)
		}
		d := binary.LittleEndian.Uint64(b[:])
		switch {
		case d&3 == 3 && level == 2:
			return d&addrMask | va&0xfff, nil
		case d&3 == 3:
			table = d & addrMask
		case d&3 == 1 && level > 0:
			size := uint64(1) << shift
			return d&addrMask&^(size-1) | va&(size-1), nil
		case d&3 == 1 && level == 0:
			return d&0xffc0000000 | va&0x3fffffff, nil
		default:
			return 0, fmt.Errorf("%w: %#x (level-%d descriptor %#x)", ErrNotMapped, va, level+1, d)
		}
	}
	return 0, fmt.Errorf("%w: %#x", ErrNotMapped, va)
}
