package arch

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/kdumpkit/kdumpkit/analyze/dump"
	"github.com/kdumpkit/kdumpkit/analyze/vmcoreinfo"
)

// arm64 is AArch64 (arch/arm64). The zero value has the conventions of a
// kernel without pointer authentication and 6.12's struct pt_regs; a
// dump's VMCOREINFO (forInfo) and its vmlinux's DWARF (WithLayout) adjust
// them.
type arm64 struct {
	// pacMask is NUMBER(KERNELPACMASK): the bits pointer authentication
	// puts into kernel return addresses; 0 without PAC.
	pacMask uint64
	regs    arm64PtRegs
}

func (arm64) Name() string { return "arm64" }
func (arm64) PtrSize() int { return 8 }

// Registers: user_pt_regs is x0–x30, sp, pc, pstate
// (arch/arm64/include/uapi/asm/ptrace.h), the start of the kernel's
// struct pt_regs and NT_PRSTATUS's elf_gregset_t; x29 is the frame
// pointer, x30 the link register.
func (arm64) Registers() RegisterSet {
	names := make([]string, 0, 34)
	for i := 0; i < 31; i++ {
		names = append(names, fmt.Sprintf("x%d", i))
	}
	return RegisterSet{Names: append(names, "sp", "pc", "pstate"), PC: 32, SP: 31, FP: 29, LR: 30, Shown: 34}
}

// forInfo takes the PAC mask from VMCOREINFO (arch/arm64/kernel/
// vmcore_info.c writes NUMBER(KERNELPACMASK), 0 when the CPU has no
// address authentication).
func (a arm64) forInfo(info *vmcoreinfo.Info) Arch {
	if m, ok := info.KernelPACMask(); ok {
		a.pacMask = m
	}
	return a
}

// The granules and VA sizes arch/arm64/Kconfig offers (6.12): ARM64_VA_BITS
// per page size.
var arm64VABits = map[uint][]uint{12: {39, 48, 52}, 14: {36, 47, 48, 52}, 16: {42, 48, 52}}

// arm64Translator translates as the kernel's __virt_to_phys and the MMU do
// (arch/arm64/include/asm/memory.h, pgtable-hwdef.h; ARM ARM D8.3):
// the linear map by arithmetic, the kernel image by its PT_LOAD, and
// everything else — vmalloc, VMAP_STACK stacks, modules, the kernel image
// when no PT_LOAD covers it — by walking swapper_pg_dir.
type arm64Translator struct {
	mem PhysReader
	// The linear map [pageStart, linearEnd) is PA = VA − pageOffset +
	// physOffs; linear is false when VMCOREINFO lacks PHYS_OFFSET and
	// the RAM PT_LOADs' p_vaddr stand in (loads).
	linear                                     bool
	pageOffset, pageStart, linearEnd, physOffs uint64
	loads                                      loadsTranslator
	// image holds the PT_LOADs outside the linear map whose p_vaddr −
	// p_paddr is kimage_voffset: the kernel image, as the kernel's own
	// elfcorehdr describes it (_text to _end).
	image loadsTranslator
	walk  arm64Walk
}

// arm64Walk is one translation regime of TTBR1_EL1: the granule, how many
// address bits index the tables, and the descriptor format.
type arm64Walk struct {
	mem       PhysReader
	root      uint64 // physical address of swapper_pg_dir
	pageShift uint   // 12, 14 or 16
	bits      uint   // address bits the tables are indexed with
	vaBits    uint   // the MMU's VA size: TTBR1 serves addresses whose bits above it are ones
	levels    int    // 2 to 5; the last is level 3
	lpa2      bool   // FEAT_LPA2 descriptors (TCR_EL1.DS = 1): OA[51:50] in bits 9:8
}

// NewTranslator reads the layout from VMCOREINFO: PAGESIZE, VA_BITS,
// TCR_EL1_T1SZ (the VA size the MMU runs with, which a 52-bit kernel
// lowers to 48 on a CPU without LVA/LPA2), PHYS_OFFSET and kimage_voffset,
// and finds swapper_pg_dir through kimage_voffset (it is in the image).
func (arm64) NewTranslator(mem PhysReader, info *vmcoreinfo.Info, loads []dump.Segment) (Translator, error) {
	w, err := arm64Regime(mem, info)
	if err != nil {
		return nil, err
	}
	t := &arm64Translator{mem: mem, walk: w}
	voff, err := info.KimageVoffset()
	if err != nil {
		return nil, fmt.Errorf("arm64: %w (kimage_voffset locates the kernel image and swapper_pg_dir)", err)
	}
	vaBits, _ := info.VABits()
	swapper, err := info.Symbol("swapper_pg_dir")
	if err != nil {
		return nil, err
	}
	t.walk.root = swapper - voff // __pa_symbol: swapper_pg_dir is in the image
	// PAGE_OFFSET = -(1 << VA_BITS); the linear map ends at PAGE_END =
	// -(1 << (VA_BITS_MIN − 1)) (less under KASAN, so RAM's size bounds it
	// too).
	t.pageOffset = -(uint64(1) << vaBits)
	vaMin := min(vaBits, 48)
	if vaBits > 48 && w.pageShift == 14 {
		vaMin = 47
	}
	pageEnd := -(uint64(1) << (vaMin - 1))
	ramLow, ramTop := ^uint64(0), uint64(0)
	for _, s := range loads {
		switch {
		case s.Vaddr != 0 && s.Vaddr-s.Paddr == voff && (s.Vaddr < t.pageOffset || s.Vaddr >= pageEnd):
			t.image = append(t.image, s)
		default:
			t.loads = append(t.loads, s)
			ramLow, ramTop = min(ramLow, s.Paddr), max(ramTop, s.Paddr+s.Memsz)
		}
	}
	if phys, err := info.PhysOffset(); err == nil {
		// The linear map covers [PAGE_OFFSET, PAGE_END); RAM bounds the
		// part that maps anything (a 52-bit kernel on a 48-bit CPU lowers
		// PHYS_OFFSET so that RAM starts at the 48-bit PAGE_OFFSET).
		t.linear, t.physOffs = true, phys
		t.pageStart, t.linearEnd = t.pageOffset, pageEnd
		span := pageEnd - t.pageOffset
		if len(t.loads) > 0 && ramLow-phys < span && ramTop-phys <= span && ramTop > ramLow {
			t.pageStart, t.linearEnd = t.pageOffset+(ramLow-phys), t.pageOffset+(ramTop-phys)
		}
	}
	return t, nil
}

// arm64Regime checks VMCOREINFO's layout values against what the
// architecture and Linux allow and sets up the walk.
func arm64Regime(mem PhysReader, info *vmcoreinfo.Info) (arm64Walk, error) {
	w := arm64Walk{mem: mem}
	ps := info.PageSize()
	switch ps {
	case 4096:
		w.pageShift = 12
	case 16384:
		w.pageShift = 14
	case 65536:
		w.pageShift = 16
	default:
		return w, fmt.Errorf("arm64: VMCOREINFO PAGESIZE=%d: want 4096, 16384 or 65536", ps)
	}
	vaBits, err := info.VABits()
	if err != nil {
		return w, fmt.Errorf("arm64: %w", err)
	}
	known := false
	for _, b := range arm64VABits[w.pageShift] {
		known = known || uint64(b) == vaBits
	}
	if !known {
		return w, fmt.Errorf("arm64: VMCOREINFO NUMBER(VA_BITS)=%d with PAGESIZE=%d: Linux offers VA_BITS %v for that page size",
			vaBits, ps, arm64VABits[w.pageShift])
	}
	// The MMU's VA size: 64 − TCR_EL1.T1SZ (written since 5.12), else VA_BITS.
	// A 52-bit kernel falls back to VA_BITS_MIN (48, 47 with 16K pages).
	actual, vaMin := vaBits, min(vaBits, 48)
	if vaBits > 48 && w.pageShift == 14 {
		vaMin = 47
	}
	if t1sz, err := info.Number("TCR_EL1_T1SZ"); err == nil {
		if t1sz != 64-vaBits && t1sz != 64-vaMin {
			return w, fmt.Errorf("arm64: VMCOREINFO NUMBER(TCR_EL1_T1SZ)=%d with NUMBER(VA_BITS)=%d: want %d (or %d for a %d-bit kernel on a CPU without 52-bit VAs)",
				int64(t1sz), vaBits, 64-vaBits, 64-vaMin, vaBits)
		}
		actual = 64 - t1sz
	}
	w.bits, w.vaBits = uint(actual), uint(actual)
	if w.pageShift == 16 {
		// 64K pages: a 52-bit kernel keeps its 1024-entry pgd on a 48-bit
		// CPU and points TTBR1 into its upper part
		// (TTBR1_BADDR_4852_OFFSET); indexing it with VA_BITS bits of a
		// kernel address (whose bits above 48 are ones) lands there too.
		w.bits = uint(vaBits)
	}
	// 4K and 16K pages reach 52 bits only with FEAT_LPA2, which changes
	// the descriptors (6.9+; with LPA2 absent the kernel runs 48-bit).
	w.lpa2 = w.pageShift != 16 && w.bits == 52
	// ARM64_HW_PGTABLE_LEVELS(va) = (va − 4) / (PAGE_SHIFT − 3)
	w.levels = int((w.bits - 4) / (w.pageShift - 3))
	return w, nil
}

func (t *arm64Translator) Translate(va uint64) (uint64, error) {
	if t.linear {
		if va >= t.pageStart && va < t.linearEnd {
			return va - t.pageOffset + t.physOffs, nil
		}
	} else if pa, ok := t.loads.Translate(va); ok {
		return pa, nil
	}
	if pa, ok := t.image.Translate(va); ok {
		return pa, nil
	}
	return t.walk.translate(va)
}

// errArm64Descriptor marks an entry the MMU would fault on although its
// valid bit is set (a block where the granule allows none, a reserved
// level-3 encoding).
var errArm64Descriptor = errors.New("reserved descriptor")

// translate walks the tables from the root (ARM ARM D8.3, D8.4): bits
// 1:0 of each descriptor are 0b11 for a table (levels 0–2) or a page
// (level 3), 0b01 for a block (levels 1–2 with 4K pages, 2 with 16K and
// 64K; one level higher with LPA2), anything with bit 0 clear is invalid.
func (w *arm64Walk) translate(va uint64) (uint64, error) {
	// TTBR1 serves addresses whose bits above the VA size are ones;
	// bits 63:56 may carry a tag (TBI), bit 55 selects the table.
	if va>>55&1 == 0 || (va|0xff00000000000000)>>w.vaBits != ^uint64(0)>>w.vaBits {
		return 0, fmt.Errorf("%w: %#x is not a kernel address of a %d-bit VA space", ErrNotMapped, va, w.vaBits)
	}
	stride := w.pageShift - 3
	table := w.root
	for i := 0; i < w.levels; i++ {
		level := 4 - w.levels + i // the last level is 3; LPA2's fifth is −1
		shift := w.pageShift + uint(w.levels-1-i)*stride
		bits := stride
		if i == 0 {
			bits = w.bits - shift
		}
		var b [8]byte
		at := table + (va>>shift&(1<<bits-1))*8
		if err := w.mem.ReadPhys(b[:], at); err != nil {
			return 0, fmt.Errorf("level-%d descriptor of %#x at physical %#x: %w", level, va, at, err)
		}
		e := binary.LittleEndian.Uint64(b[:])
		size := uint64(1) << shift
		switch {
		case e&1 == 0:
			return 0, fmt.Errorf("%w: %#x (level-%d descriptor %#x is invalid)", ErrNotMapped, va, level, e)
		case e&2 != 0 && level < 3: // table
			table = w.outputAddr(e)
		case e&2 != 0: // page
			return w.outputAddr(e) | va&(size-1), nil
		case w.blockAt(level):
			return w.outputAddr(e)&^(size-1) | va&(size-1), nil
		default:
			return 0, fmt.Errorf("%w: %#x: %w: level-%d block %#x with %d KiB pages", ErrNotMapped, va, errArm64Descriptor, level, e, 1<<(w.pageShift-10))
		}
	}
	return 0, fmt.Errorf("%w: %#x", ErrNotMapped, va) // not reached: level 3 ends the loop
}

// blockAt: 4K pages map 1 GiB and 2 MiB blocks (and 512 GiB at level 0
// with LPA2), 16K 32 MiB (64 GiB at level 1 with LPA2), 64K 512 MiB.
func (w *arm64Walk) blockAt(level int) bool {
	lowest := 2
	if w.pageShift == 12 {
		lowest = 1
	}
	if w.lpa2 {
		lowest--
	}
	return level >= lowest && level <= 2
}

// outputAddr extracts a descriptor's output (or next-table) address:
// bits 47:PAGE_SHIFT; with LPA2 bits 49:PAGE_SHIFT and OA[51:50] from bits
// 9:8; with 64K pages OA[51:48] from bits 15:12 (FEAT_LPA, zero below
// 52-bit PAs).
func (w *arm64Walk) outputAddr(e uint64) uint64 {
	switch {
	case w.lpa2:
		return e&(1<<50-1)&^(1<<w.pageShift-1) | (e>>8&3)<<50
	case w.pageShift == 16:
		return e&(1<<48-1)&^(1<<16-1) | (e>>12&0xf)<<48
	}
	return e & (1<<48 - 1) &^ (1<<w.pageShift - 1)
}
