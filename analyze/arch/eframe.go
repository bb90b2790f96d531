package arch

// EframeSearch is optional in Frames: how bt -e recognises an exception
// frame (a struct pt_regs the entry code saved) among a kernel stack's
// words without unwinding.
type EframeSearch interface {
	// PtRegsAt reports whether r, the registers of RegisterSet.Names
	// read at addr on the kernel stack [lo, hi), is an exception frame,
	// and whether it is the one saved on entry from user mode. text
	// says whether an address is kernel text; userTop is the lowest
	// kernel address.
	PtRegsAt(r []uint64, addr, lo, hi uint64, text func(uint64) bool, userTop uint64) (ok, user bool)
}

// ARM's processor modes (CPSR M[4:0]).
const (
	armModeUSR = 0x10
	armModeSVC = 0x13
)

// PtRegsAt: arch/arm/kernel/entry-armv.S. A frame saved in SVC mode
// (svc_entry, or crash_setup_regs' copy of the registers at the panic)
// has no reserved CPSR bit set (bits 20–23 are RES0 on ARMv7), pc and lr
// in kernel text and sp on the stack, the test crash's arm64 port makes
// (crash 8.0.2 has none for ARM). One taken in user mode (usr_entry,
// vector_swi) is at task_pt_regs, the top of the stack, with user pc
// and sp (a kernel thread's is zeros, not a frame).
func (a arm) PtRegsAt(r []uint64, addr, lo, hi uint64, text func(uint64) bool, userTop uint64) (ok, user bool) {
	if len(r) < 18 {
		return false, false
	}
	cpsr, pc, lr, sp := r[16], r[15], r[14], r[13]
	if cpsr>>32 != 0 || cpsr&0x00f00000 != 0 {
		return false, false
	}
	switch cpsr & 0x1f {
	case armModeUSR:
		return addr == a.UserRegs(lo, hi-lo) && pc < userTop && sp < userTop && pc != 0 && sp != 0, true
	case armModeSVC:
		return text(a.CodeAddr(pc)) && text(a.CodeAddr(lr)) && sp >= lo && sp < hi, false
	}
	return false, false
}

// PtRegsAt: arch/arm64/kernel/entry.S kernel_entry, tested as crash's
// arm64_is_kernel_exception_frame does — at EL1 or EL2 with pc and lr in
// kernel text and sp and x29 on the stack, which takes crash_setup_regs'
// copy of the registers at the panic too — and, stricter than crash, on
// the handler stack pointer (EL1h, EL2h: Linux never runs on SP_EL0 past
// boot) with SPSR's RES0 bits clear (26–27, 14–19, 5), which leaves out
// the stale words crash also shows. From EL0 (M = 0) the frame is
// task_pt_regs with user pc and sp (a kernel thread's is zeros).
func (a arm64) PtRegsAt(r []uint64, addr, lo, hi uint64, text func(uint64) bool, userTop uint64) (ok, user bool) {
	if len(r) < 34 {
		return false, false
	}
	pstate, pc, sp, fp, lr := r[33], r[32], r[31], r[29], r[30]
	const res0 = 0x0c0fc020
	if pstate>>32 != 0 || pstate&0x10 != 0 || pstate&res0 != 0 {
		return false, false
	}
	switch pstate & 0xf {
	case 0:
		return addr == a.UserRegs(lo, hi-lo) && pc < userTop && sp < userTop && pc != 0 && sp != 0, true
	case 5, 9:
		in := func(v uint64) bool { return v >= lo && v < hi }
		return text(a.CodeAddr(pc)) && text(a.CodeAddr(lr)) && in(sp) && in(fp), false
	}
	return false, false
}
