package arch

import (
	"encoding/binary"
	"fmt"

	"github.com/kdumpkit/kdumpkit/analyze/dump"
	"github.com/kdumpkit/kdumpkit/analyze/vmcoreinfo"
)

// x86_64 is arch/x86 in 64-bit mode.
type x86_64 struct{}

func (x86_64) Name() string { return "x86_64" }
func (x86_64) PtrSize() int { return 8 }

// Registers: pt_regs in the kernel's user_regs_struct order
// (arch/x86/include/asm/user_64.h); the return address is on the stack,
// so there is no LR.
func (x86_64) Registers() RegisterSet {
	return RegisterSet{
		Names: []string{"r15", "r14", "r13", "r12", "bp", "bx", "r11", "r10", "r9", "r8",
			"ax", "cx", "dx", "si", "di", "orig_ax", "ip", "cs", "flags", "sp", "ss",
			"fs_base", "gs_base", "ds", "es", "fs", "gs"},
		PC: 16, SP: 19, FP: 4, LR: -1, Shown: 21,
	}
}

// startKernelMap is __START_KERNEL_map: the kernel image's virtual base.
const startKernelMap = 0xffffffff80000000

type x86Translator struct {
	loads loadsTranslator
	w     walk4K
}

// NewTranslator uses the PT_LOADs' p_vaddr (the kernel writes the direct
// map and the kernel text mapping there) and walks init_top_pgt for the
// rest, 4 or 5 levels as NUMBER(pgtable_l5_enabled) says.
func (x86_64) NewTranslator(mem PhysReader, info *vmcoreinfo.Info, loads []dump.Segment) (Translator, error) {
	top, err := info.Symbol("init_top_pgt")
	if err != nil {
		return nil, err
	}
	physBase, _ := info.Number("phys_base")
	if top < startKernelMap {
		return nil, fmt.Errorf("init_top_pgt %#x is not in the kernel image mapping", top)
	}
	levels := 4
	if l5, err := info.Number("pgtable_l5_enabled"); err == nil && l5 == 1 {
		levels = 5
	}
	t := &x86Translator{loads: loads, w: walk4K{mem: mem, order: binary.LittleEndian, root: top - startKernelMap + physBase, levels: levels,
		present: func(e uint64, _ int) bool { return e&1 != 0 },
		leaf:    func(e uint64, level int) bool { return e&0x80 != 0 && level >= levels-3 }, // PS: 1 GiB or 2 MiB
		addr:    func(e uint64) uint64 { return e & 0x000ffffffffff000 },
	}}
	return t, nil
}

func (t *x86Translator) Translate(va uint64) (uint64, error) {
	if pa, ok := t.loads.Translate(va); ok {
		return pa, nil
	}
	return t.w.translate(va)
}
