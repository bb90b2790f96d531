package unwind

import (
	"fmt"

	"github.com/kdumpkit/kdumpkit/analyze/arch"
)

// Walk unwinds an ARM32 kernel stack with the EHABI tables (Unwinder).
func (a *ARM) Walk(regs []uint64, fromReturn bool, mem Memory, max int) ([]Frame, error) {
	w := walker{set: a.arch.Registers(), frames: a.arch.(arch.Frames), step: a}
	return w.walk(regs, fromReturn, mem, max)
}

// step runs the EHABI instructions of the function covering lookup on the
// core registers r0–r15; the rest of regs (cpsr, orig_r0) is carried over.
func (a *ARM) step(regs []uint64, lookup uint64, mem Memory, f *Frame) ([]uint64, error) {
	e, ok := a.lookup(uint32(lookup))
	if !ok {
		return regs, fmt.Errorf("pc %#x: %w", lookup, ErrNoEntry)
	}
	f.Func = uint64(e.fn)
	ops, err := a.instructions(e)
	if err != nil {
		return regs, fmt.Errorf("function at %#x: %w", e.fn, err)
	}
	var r ARMRegs
	for i := range r {
		r[i] = uint32(regs[i])
	}
	v := vm{regs: r, vsp: r[SP], mem: armStack{mem}}
	if err := v.execute(ops); err != nil {
		return regs, fmt.Errorf("function at %#x: %w", e.fn, err)
	}
	if !v.pcSet {
		v.regs[PC] = v.regs[LR]
	}
	v.regs[SP] = v.vsp
	f.CallerSP = uint64(v.vsp)
	next := append([]uint64(nil), regs...)
	for i, x := range v.regs {
		next[i] = uint64(x)
	}
	return next, nil
}
