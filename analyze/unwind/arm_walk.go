package unwind

import (
	"errors"
	"fmt"
)

// Frame is one function activation found on the stack.
type Frame struct {
	// PC is where the frame executes: the interrupted pc for frame 0, the
	// return address for callers.
	PC uint32
	// Lookup is the address that names the frame: PC for frame 0, PC-4 for
	// callers, so that a call to a noreturn function (the last instruction
	// of its caller) is named after the caller, not the function after it.
	Lookup uint32
	// Func is the start of the function per .ARM.exidx (0 if unknown).
	Func uint32
	// SP is the stack pointer while the frame runs; CallerSP is its value
	// after the unwind, so [SP, CallerSP) is the frame's stack area.
	SP, CallerSP uint32
	// Regs are the registers at the frame as far as they are known.
	Regs ARMRegs
}

// Walk unwinds from regs (the register state of frame 0) until an entry
// marks the end of the stack, a limit of max frames, or an error. The frames
// found so far are returned with the error that stopped the walk;
// ErrCantUnwind and ErrRefuse mean the outermost frame was reached.
func (a *ARM) Walk(regs ARMRegs, mem Stack, max int) ([]Frame, error) {
	return a.walk(regs, regs[PC], mem, max)
}

// WalkFromReturn is Walk for registers whose pc is a return address (a
// sleeping task's saved context): frame 0 is named and unwound at pc-4.
func (a *ARM) WalkFromReturn(regs ARMRegs, mem Stack, max int) ([]Frame, error) {
	return a.walk(regs, regs[PC]&^1-4, mem, max)
}

func (a *ARM) walk(regs ARMRegs, lookup uint32, mem Stack, max int) ([]Frame, error) {
	var frames []Frame
	for len(frames) < max {
		f := Frame{PC: regs[PC], Lookup: lookup, SP: regs[SP], Regs: regs}
		next, err := a.step(regs, lookup, mem, &f)
		if errors.Is(err, ErrNoEntry) && lookup != regs[PC]&^1 {
			// Entry code sets lr by hand to the first instruction of a
			// function (vector_swi: "badr lr, __ret_fast_syscall"), so
			// pc-4 may lie before any unwind entry: use pc itself.
			lookup = regs[PC] &^ 1
			f.Lookup = lookup
			next, err = a.step(regs, lookup, mem, &f)
		}
		frames = append(frames, f)
		if err != nil {
			return frames, err
		}
		if next[PC] == 0 {
			return frames, fmt.Errorf("frame %d (%#x): return address is 0: %w", len(frames)-1, f.PC, ErrCantUnwind)
		}
		if next[SP] < regs[SP] || (next[SP] == regs[SP] && next[PC] == regs[PC]) {
			return frames, fmt.Errorf("frame %d (%#x): sp %#x -> %#x, pc %#x -> %#x: %w",
				len(frames)-1, f.PC, regs[SP], next[SP], regs[PC], next[PC], ErrLoop)
		}
		regs = next
		// ARM-mode calls are 4 bytes; Thumb return addresses have bit 0 set
		// and BL is 4 bytes there too, so pc-4 lies in the call either way.
		lookup = regs[PC]&^1 - 4
	}
	return frames, nil
}

// Step unwinds one frame: given the registers of a frame whose function is
// looked up at lookup, it returns the caller's registers.
func (a *ARM) Step(regs ARMRegs, lookup uint32, mem Stack) (ARMRegs, error) {
	var f Frame
	return a.step(regs, lookup, mem, &f)
}

func (a *ARM) step(regs ARMRegs, lookup uint32, mem Stack, f *Frame) (ARMRegs, error) {
	e, ok := a.lookup(lookup)
	if !ok {
		return regs, fmt.Errorf("pc %#x: %w", lookup, ErrNoEntry)
	}
	f.Func = e.fn
	ops, err := a.instructions(e)
	if err != nil {
		return regs, fmt.Errorf("function at %#x: %w", e.fn, err)
	}
	v := vm{regs: regs, vsp: regs[SP], mem: mem}
	if err := v.execute(ops); err != nil {
		return regs, fmt.Errorf("function at %#x: %w", e.fn, err)
	}
	if !v.pcSet {
		v.regs[PC] = v.regs[LR]
	}
	v.regs[SP] = v.vsp
	f.CallerSP = v.vsp
	return v.regs, nil
}

// IsEnd reports whether err is an ordinary end of the stack rather than a
// failure worth a warning.
func IsEnd(err error) bool {
	return err == nil || errors.Is(err, ErrCantUnwind) || errors.Is(err, ErrRefuse)
}
