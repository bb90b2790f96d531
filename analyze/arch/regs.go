package arch

import (
	"encoding/binary"
	"fmt"
)

// RegisterSet is an architecture's register file in the order of the
// kernel's struct pt_regs, which is also the order of NT_PRSTATUS's
// pr_reg (elf_gregset_t) on every arch read here.
type RegisterSet struct {
	// Names are the registers as the kernel's show_regs names them.
	Names []string
	// PC, SP, FP and LR index Names; -1 when the arch has no such
	// register (x86_64 keeps its return address on the stack, not in LR).
	PC, SP, FP, LR int
	// Shown is how many registers, from the first, a backtrace prints
	// for an exception frame (ARM: r0–r15 and cpsr, not orig_r0).
	Shown int
}

// Frames is what a backtrace needs of an architecture besides the
// unwinder: where a stopped task's registers are, how a return address
// names its caller, and which stack frames hold saved registers. It is
// optional: an Arch without it has no bt yet (arm64 and x86_64 today).
type Frames interface {
	// CallSite returns the address that names the caller frame whose
	// return address is ret (the call instruction, not the one after it,
	// which for a call to a noreturn function is another function).
	CallSite(ret uint64) uint64
	// CodeAddr strips a pc value of what is not address (ARM's Thumb bit).
	CodeAddr(pc uint64) uint64
	// SwitchFrame says where the scheduler saved a sleeping task's
	// registers.
	SwitchFrame() SavedRegs
	// ThreadSize is the kernel stack size to assume when DWARF does not
	// give sizeof(union thread_union).
	ThreadSize() uint64
	// UserRegs returns the address of the pt_regs that the entry from
	// user space saved on a kernel stack starting at stack.
	UserRegs(stack, threadSize uint64) uint64
	// ExceptionFrame reports whether function fn is an exception entry
	// that saved a whole pt_regs at its frame's stack pointer.
	ExceptionFrame(fn string) bool
	// ShowRegs formats a pt_regs (at least RegisterSet.Shown of it) as
	// the kernel's __show_regs or crash's bt does, one string a line;
	// name gives "symbol+offset" for a code address, "" when it has none.
	ShowRegs(r []uint64, name func(addr uint64) string) []string
}

// CPUStacks is optional in Frames: the per-CPU stacks a running task's
// frames may lie on besides its own kernel stack (arm64's IRQ and
// overflow stacks), which a frame-pointer walk must accept and nothing
// else.
type CPUStacks interface {
	CPUStacks() []CPUStack
}

// CPUStack is one per-CPU stack.
type CPUStack struct {
	// Name is the stack's name in messages: "IRQ", "overflow".
	Name string
	// Symbol is the per-CPU variable: a pointer to the stack's lowest
	// address when Pointer is set (irq_stack_ptr), else the stack itself
	// (overflow_stack).
	Symbol  string
	Pointer bool
	// Size is the stack's size in bytes, 0 for the thread size.
	Size uint64
}

// CrashStop is optional in Frames: an arch whose crash-stop IPI saves,
// as a stopped CPU's NT_PRSTATUS, the registers the IPI interrupted
// rather than its own (arm64), names the function that saved them; its
// frame, still on the CPU's IRQ stack, starts that CPU's backtrace.
type CrashStop interface {
	CrashStopFunc() string
}

// TypeLayout is what an Arch may learn from the vmlinux's DWARF (a
// *types.Types): a type's size and a member path's offset.
type TypeLayout interface {
	Size(typ string) (int64, error)
	Offset(typ, path string) (int64, error)
}

// LayoutTuner is optional in an Arch whose frame layout changes between
// kernel versions (arm64's struct pt_regs): WithLayout returns the Arch
// with the vmlinux's sizes and offsets, keeping its defaults for what the
// layout cannot tell.
type LayoutTuner interface {
	WithLayout(TypeLayout) Arch
}

// SavedRegs is where context switch keeps a sleeping task's registers.
type SavedRegs struct {
	// Member is the path of the save area in struct task_struct.
	Member string
	// Regs are the register indexes (into RegisterSet.Names) of the
	// save area's words, one pointer-sized word each, in order.
	Regs []int
}

// PRStatus decodes an NT_PRSTATUS descriptor of a's dump: struct
// elf_prstatus, whose pr_pid sits after pr_info (3 ints), pr_cursig
// (short, padded) and two longs of signal sets, and pr_reg after pid,
// ppid, pgrp, sid and four struct timevals (two longs each).
func PRStatus(a Arch, desc []byte, bo binary.ByteOrder) (Regs, error) {
	set, long := a.Registers(), a.PtrSize()
	nregs := len(set.Names)
	pidOff := 12 + 4 + 2*long
	regOff := pidOff + 16 + 8*long
	if len(desc) < regOff+nregs*long {
		return Regs{}, fmt.Errorf("NT_PRSTATUS of %d bytes, want at least %d", len(desc), regOff+nregs*long)
	}
	r := Regs{PID: int(int32(bo.Uint32(desc[pidOff:]))), Regs: make([]uint64, nregs)}
	for i := range r.Regs {
		r.Regs[i] = Word(desc[regOff+i*long:], long, bo)
	}
	r.PC, r.SP = r.Regs[set.PC], r.Regs[set.SP]
	return r, nil
}

// Word decodes an unsigned word of size 4 or 8 bytes.
func Word(b []byte, size int, bo binary.ByteOrder) uint64 {
	if size == 4 {
		return uint64(bo.Uint32(b))
	}
	return bo.Uint64(b)
}
