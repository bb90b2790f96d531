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

// PtRegsAt: arch/arm/kernel/entry-armv.S. An exception taken in SVC mode
// (svc_entry) saves r0–r12, the interrupted sp (the frame's end, plus 4
// when it realigned the stack), lr, pc and cpsr, and orig_r0 = -1, with
// the sp pointing at the frame, the old sp a few words past its end; one taken in user mode (usr_entry,
// vector_swi) leaves its pt_regs at task_pt_regs, the top of the stack
// (a kernel thread's is zeros, not a frame).
// A frame must have a mode the kernel runs or enters from, no reserved
// CPSR bits set (bits 20–23 are RES0 on ARMv7), and a pc where that mode
// runs.
func (a arm) PtRegsAt(r []uint64, addr, lo, hi uint64, text func(uint64) bool, userTop uint64) (ok, user bool) {
	if len(r) < 18 {
		return false, false
	}
	cpsr, pc, sp := r[16], r[15], r[13]
	if cpsr>>32 != 0 || cpsr&0x00f00000 != 0 {
		return false, false
	}
	size := uint64(4 * len(a.Registers().Names))
	switch cpsr & 0x1f {
	case armModeUSR:
		return addr == a.UserRegs(lo, hi-lo) && pc < userTop && sp < userTop && pc != 0 && sp != 0, true
	case armModeSVC:
		// svc_pt_regs may add a word or two (dacr) and svc_entry a
		// stack hole and 4 bytes of realignment above the frame.
		end := addr + size
		return r[17] == 0xffffffff && text(pc) && sp >= end && sp-end <= 16 && sp%4 == 0 && sp <= hi, false
	}
	return false, false
}

// PtRegsAt: arch/arm64/kernel/entry.S kernel_entry. From EL1 (pstate
// M[3:0] = EL1h, 5) the saved sp is the frame's end and pc kernel text;
// from EL0 (M = 0, AArch64) the frame is task_pt_regs with user pc and
// sp. pstate's upper 32 bits are RES0. A kernel thread's pt_regs at the
// top of its stack is zeros (copy_thread): not a frame.
func (a arm64) PtRegsAt(r []uint64, addr, lo, hi uint64, text func(uint64) bool, userTop uint64) (ok, user bool) {
	if len(r) < 34 {
		return false, false
	}
	pstate, pc, sp := r[33], r[32], r[31]
	if pstate>>32 != 0 || pstate&0x10 != 0 {
		return false, false
	}
	switch pstate & 0xf {
	case 0:
		return addr == a.UserRegs(lo, hi-lo) && pc < userTop && sp < userTop && pc != 0 && sp != 0, true
	case 5:
		return text(a.CodeAddr(pc)) && sp == addr+uint64(a.PtRegsRecord().Size) && sp <= hi, false
	}
	return false, false
}
