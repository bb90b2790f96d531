package arch

import (
	"encoding/binary"
	"fmt"

	"github.com/kdumpkit/kdumpkit/analyze/dump"
	"github.com/kdumpkit/kdumpkit/analyze/vmcoreinfo"
)

// arm64 is AArch64 (arch/arm64).
type arm64 struct{}

func (arm64) Name() string { return "arm64" }
func (arm64) PtrSize() int { return 8 }

// Registers: user_pt_regs is x0–x30, sp, pc, pstate
// (arch/arm64/include/uapi/asm/ptrace.h); x29 is the frame pointer.
func (arm64) Registers() RegisterSet {
	names := make([]string, 0, 34)
	for i := 0; i < 31; i++ {
		names = append(names, fmt.Sprintf("x%d", i))
	}
	return RegisterSet{Names: append(names, "sp", "pc", "pstate"), PC: 32, SP: 31, FP: 29, LR: 30, Shown: 34}
}

type arm64Translator struct {
	loads loadsTranslator
	w     walk4K
}

// NewTranslator uses the PT_LOADs' p_vaddr for the linear map,
// kimage_voffset for the kernel image and walks swapper_pg_dir (4 KiB
// granule; VA_BITS 39 → 3 levels, 48 → 4) for vmalloc and stacks. 16 and
// 64 KiB granules are not read yet and are refused by name.
func (arm64) NewTranslator(mem PhysReader, info *vmcoreinfo.Info, loads []dump.Segment) (Translator, error) {
	if ps := info.PageSize(); ps != 4096 {
		return nil, fmt.Errorf("arm64 with %d-byte pages: only the 4 KiB granule is supported", ps)
	}
	voff, err := info.KimageVoffset()
	if err != nil {
		return nil, err
	}
	swapper, err := info.Symbol("swapper_pg_dir")
	if err != nil {
		return nil, err
	}
	vaBits, err := info.VABits()
	if err != nil {
		return nil, err
	}
	levels := int((vaBits - 12 + 8) / 9)
	const addrMask = 0x0000fffffffff000
	// swapper_pg_dir is in the kernel image: its PA is VA − kimage_voffset.
	t := &arm64Translator{loads: loads, w: walk4K{mem: mem, order: binary.LittleEndian, root: swapper - voff, levels: levels,
		present: func(e uint64, _ int) bool { return e&1 != 0 },
		leaf:    func(e uint64, level int) bool { return e&2 == 0 && level > 0 }, // block descriptor
		addr:    func(e uint64) uint64 { return e & addrMask },
	}}
	return t, nil
}

func (t *arm64Translator) Translate(va uint64) (uint64, error) {
	if pa, ok := t.loads.Translate(va); ok {
		return pa, nil
	}
	return t.w.translate(va)
}
