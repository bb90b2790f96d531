package unwind

import (
	"errors"
	"fmt"

	"github.com/kdumpkit/kdumpkit/analyze/arch"
)

// stepper is one architecture's unwinding of one frame: given the
// registers of a frame whose function is looked up at lookup, it returns
// the caller's registers and fills f.Func and f.CallerSP.
type stepper interface {
	step(regs []uint64, lookup uint64, mem Memory, f *Frame) ([]uint64, error)
}

// walker is the arch-neutral loop around a stepper: frame naming, the
// end-of-stack and no-progress checks.
type walker struct {
	set    arch.RegisterSet
	frames arch.Frames
	step   stepper
}

func (w walker) walk(regs []uint64, fromReturn bool, mem Memory, max int) ([]Frame, error) {
	if len(regs) < len(w.set.Names) {
		return nil, fmt.Errorf("%d registers, want %d", len(regs), len(w.set.Names))
	}
	pcI, spI := w.set.PC, w.set.SP
	lookup := regs[pcI]
	if fromReturn {
		lookup = w.frames.CallSite(regs[pcI])
	}
	var frames []Frame
	for len(frames) < max {
		f := Frame{PC: regs[pcI], Lookup: lookup, SP: regs[spI], Regs: regs}
		next, err := w.step.step(regs, lookup, mem, &f)
		if code := w.frames.CodeAddr(regs[pcI]); errors.Is(err, ErrNoEntry) && lookup != code {
			// Entry code sets the return address by hand to the first
			// instruction of a function (ARM's vector_swi: "badr lr,
			// __ret_fast_syscall"), so the call site may lie before any
			// unwind entry: use the address itself.
			lookup, f.Lookup = code, code
			next, err = w.step.step(regs, lookup, mem, &f)
		}
		frames = append(frames, f)
		if err != nil {
			return frames, err
		}
		if next[pcI] == 0 {
			return frames, fmt.Errorf("frame %d (%#x): return address is 0: %w", len(frames)-1, f.PC, ErrCantUnwind)
		}
		if next[spI] < regs[spI] || (next[spI] == regs[spI] && next[pcI] == regs[pcI]) {
			return frames, fmt.Errorf("frame %d (%#x): sp %#x -> %#x, pc %#x -> %#x: %w",
				len(frames)-1, f.PC, regs[spI], next[spI], regs[pcI], next[pcI], ErrLoop)
		}
		regs = next
		lookup = w.frames.CallSite(regs[pcI])
	}
	return frames, nil
}
