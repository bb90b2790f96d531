package unwind

import (
	"debug/elf"
	"errors"
	"fmt"

	"github.com/kdumpkit/kdumpkit/analyze/arch"
)

// Sentinel errors; the walk stops at the first one. ErrCantUnwind and
// ErrRefuse are the ordinary end of a kernel stack (entry code is marked
// .cantunwind), the others mean the stack or tables are not what they claim.
var (
	ErrNoUnwinder  = errors.New("no stack unwinder for this architecture")
	ErrNoTable     = errors.New("no .ARM.exidx unwind table")
	ErrNoEntry     = errors.New("no unwind entry covers the address")
	ErrCantUnwind  = errors.New("function is marked cantunwind")
	ErrRefuse      = errors.New("unwind instructions refuse to unwind")
	ErrBadOpcode   = errors.New("reserved or spare unwind opcode")
	ErrPersonality = errors.New("generic-model personality routine not supported")
	ErrLoop        = errors.New("stack unwinding makes no progress")
)

// Memory reads the unwound task's memory (its kernel stack and, for
// exception frames, whatever the saved registers point at); a *kernel.Kernel
// is one.
type Memory interface {
	ReadUint(addr uint64, size int) (uint64, error)
}

// Context is optional in the Memory given to Walk: what the dump knows
// beyond the image. The frame-record unwinder (arm64) takes the dump's
// arch, tuned by its VMCOREINFO and DWARF (PAC mask, pt_regs layout), and
// keeps the walk on the task's stacks.
type Context interface {
	Memory
	// DumpArch is the dump's architecture.
	DumpArch() arch.Arch
	// Stacks are the stacks the task's frames may lie on: its kernel
	// stack and, when it was running on a CPU, that CPU's IRQ and other
	// per-CPU stacks.
	Stacks() []Stack
}

// Stack is one stack: [Low, High).
type Stack struct {
	Name      string // "task", "IRQ", "overflow"…, for messages
	Low, High uint64
}

func (s Stack) contains(addr, size uint64) bool {
	return addr >= s.Low && addr+size >= addr && addr+size <= s.High
}

// Unwinder walks a kernel stack back from a set of registers.
type Unwinder interface {
	// Walk unwinds from regs (frame 0's registers, in the order of the
	// arch's RegisterSet) until the end of the stack, max frames or an
	// error; fromReturn says regs' pc is a return address (a sleeping
	// task's saved context), so frame 0 is named at its call site. The
	// frames found are returned with the error that stopped the walk.
	Walk(regs []uint64, fromReturn bool, mem Memory, max int) ([]Frame, error)
}

// For returns the unwinder of the kernel image f, chosen by its machine:
// ARM32 unwinds with the EHABI tables (arm.go), arm64 by frame records
// (arm64.go). Arches without one yet get ErrNoUnwinder.
func For(f *elf.File) (Unwinder, error) {
	a, err := arch.ForMachine(f.Machine)
	if err != nil {
		return nil, err
	}
	switch a.Name() {
	case "arm":
		u, err := LoadARM(f)
		if err != nil {
			return nil, err
		}
		return u, nil
	case "arm64":
		return NewARM64(), nil
	}
	return nil, fmt.Errorf("%w: %s", ErrNoUnwinder, a.Name())
}

// Frame is one function activation found on the stack.
type Frame struct {
	// PC is where the frame executes: the interrupted pc for frame 0, the
	// return address for callers.
	PC uint64
	// Lookup is the address that names the frame: PC for frame 0, the
	// call site (arch.Frames.CallSite) for callers, so that a call to a
	// noreturn function (the last instruction of its caller) is named
	// after the caller, not the function after it.
	Lookup uint64
	// Func is the start of the function per the unwind tables (0 if unknown).
	Func uint64
	// SP is the stack pointer while the frame runs; CallerSP is its value
	// after the unwind, so [SP, CallerSP) is the frame's stack area.
	SP, CallerSP uint64
	// Regs are the registers at the frame as far as they are known, in
	// the arch's RegisterSet order.
	Regs []uint64
	// Trap says the frame is an exception entry that saved a pt_regs at
	// SP: the next frame is the interrupted one, with those registers,
	// named at its pc rather than at a call before it.
	Trap bool
}

// IsEnd reports whether err is an ordinary end of the stack rather than a
// failure worth a warning.
func IsEnd(err error) bool {
	return err == nil || errors.Is(err, ErrCantUnwind) || errors.Is(err, ErrRefuse)
}
