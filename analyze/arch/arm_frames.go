package arch

import "fmt"

// The ARM32 stack conventions (Frames) of arch/arm, Linux 6.1.

// CallSite: ARM-mode calls are 4 bytes; Thumb return addresses have bit 0
// set and BL is 4 bytes there too, so ret-4 lies in the call either way.
// The arithmetic wraps at 32 bits as the CPU's does.
func (arm) CallSite(ret uint64) uint64 { return uint64(uint32(ret)&^1 - 4) }

// CodeAddr clears the Thumb bit.
func (arm) CodeAddr(pc uint64) uint64 { return pc &^ 1 }

// SwitchFrame: __switch_to saves r4–r9, sl, fp, sp and the return address
// into __schedule as pc in thread_info.cpu_context, and thread_info is
// inside task_struct (THREAD_INFO_IN_TASK).
func (arm) SwitchFrame() SavedRegs {
	return SavedRegs{Member: "thread_info.cpu_context", Regs: []int{4, 5, 6, 7, 8, 9, 10, 11, 13, 15}}
}

// ThreadSize is THREAD_SIZE without VMAP_STACK's larger stacks: 8 KiB.
func (arm) ThreadSize() uint64 { return 8192 }

// UserRegs is task_pt_regs(): stack + THREAD_START_SP - sizeof(pt_regs),
// THREAD_START_SP = THREAD_SIZE - 8 (arch/arm/include/asm/processor.h).
func (a arm) UserRegs(stack, threadSize uint64) uint64 {
	return stack + threadSize - 8 - uint64(4*len(a.Registers().Names))
}

// ExceptionFrame: svc_entry (arch/arm/kernel/entry-armv.S) builds pt_regs
// at the stack pointer of these entries; their ".save {r0 - pc}" is how the
// unwinder gets past them.
func (arm) ExceptionFrame(fn string) bool {
	switch fn {
	case "__irq_svc", "__dabt_svc", "__pabt_svc", "__und_svc", "__fiq_svc", "__fiq_abt":
		return true
	}
	return false
}

// ShowRegs prints registers in the kernel's __show_regs layout
// (arch/arm/kernel/process.c), which crash's ARM bt also uses; it names
// no symbols.
func (arm) ShowRegs(r []uint64, _ func(uint64) string) []string {
	psr := uint32(r[16])
	return []string{
		fmt.Sprintf("pc : [<%08x>]    lr : [<%08x>]    psr: %08x", r[15], r[14], r[16]),
		fmt.Sprintf("sp : %08x  ip : %08x  fp : %08x", r[13], r[12], r[11]),
		fmt.Sprintf("r10: %08x  r9 : %08x  r8 : %08x", r[10], r[9], r[8]),
		fmt.Sprintf("r7 : %08x  r6 : %08x  r5 : %08x  r4 : %08x", r[7], r[6], r[5], r[4]),
		fmt.Sprintf("r3 : %08x  r2 : %08x  r1 : %08x  r0 : %08x", r[3], r[2], r[1], r[0]),
		fmt.Sprintf("Flags: %s  IRQs %s  FIQs %s  Mode %s  ISA %s",
			cpsrFlags(psr), onOff(psr&0x80 == 0), onOff(psr&0x40 == 0), armMode(psr), armISA(psr)),
	}
}

func cpsrFlags(c uint32) string {
	f := []byte("nzcv")
	for i, bit := range []uint32{31, 30, 29, 28} {
		if c&(1<<bit) != 0 {
			f[i] -= 'a' - 'A'
		}
	}
	return string(f)
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func armMode(c uint32) string {
	switch c & 0x1f {
	case 0x10:
		return "USER_32"
	case 0x11:
		return "FIQ_32"
	case 0x12:
		return "IRQ_32"
	case 0x13:
		return "SVC_32"
	case 0x17:
		return "ABT_32"
	case 0x1b:
		return "UND_32"
	case 0x1f:
		return "SYSTEM_32"
	}
	return fmt.Sprintf("%#x", c&0x1f)
}

func armISA(c uint32) string {
	if c&(1<<5) != 0 {
		return "Thumb"
	}
	return "ARM"
}
