package unwind

import (
	"debug/elf"
	"errors"
	"fmt"

	"github.com/kdumpkit/kdumpkit/analyze/arch"
)

// ErrOffStack means a frame record lies outside the stacks the task may
// use, below one already passed, or misaligned: the chain is corrupt (or
// the walk has no stack to go on).
var ErrOffStack = errors.New("frame record is not on the task's stacks")

// ARM64 unwinds an arm64 kernel stack by its frame records, as the
// kernel's own arch/arm64/kernel/stacktrace.c does (6.12): x29 points at
// a record {caller's x29, return address}; entry.S puts one in every
// pt_regs it saves, holding the interrupted x29 and pc for an exception
// taken at EL1 and {0, 0} at the bottom of a task (an entry from user
// space, or a kernel thread's start). The walk keeps to the stacks a
// Context gives (the task's, its CPU's IRQ and overflow stacks), moving
// up within a stack and never back to one it left.
type ARM64 struct {
	// arch is the image's arm64 as package arch knows it untuned; a
	// Context's DumpArch replaces it with the dump's.
	arch arch.Arch
}

// NewARM64 returns the frame-record unwinder. Frame pointers need no
// tables: the image only tells the machine.
func NewARM64() *ARM64 {
	a, err := arch.ForMachine(elf.EM_AARCH64)
	if err != nil {
		panic(err) // arm64 is always known to package arch
	}
	return &ARM64{arch: a}
}

// arm64Walk is the state of one walk: the conventions, the registers of
// the frame being left, and the stacks still open to it.
type arm64Walk struct {
	frames arch.Frames
	set    arch.RegisterSet
	rec    arch.PtRegsRecord
	mem    Memory
	// stacks are the stacks the walk may still move to; cur is the one it
	// is on and low the end of what was read there (the kernel's
	// unwind_consume_stack). bounded is false without a Context: then
	// each record must lie above the last.
	stacks  []Stack
	cur     Stack
	low     uint64
	bounded bool
	lastFP  uint64
}

// Walk unwinds from regs (x0–x30, sp, pc, pstate). Frame 0 is named at
// its pc, or at pc − 4 when fromReturn says pc is a return address (a
// sleeping task's cpu_context); callers are named at their call (pc − 4),
// an interrupted frame at its pc. A frame whose record is the one in a
// pt_regs has Trap set and SP at that pt_regs; the frame after it has the
// pt_regs' registers.
func (u *ARM64) Walk(regs []uint64, fromReturn bool, mem Memory, max int) ([]Frame, error) {
	a := u.arch
	w := arm64Walk{mem: mem}
	if c, ok := mem.(Context); ok {
		if d := c.DumpArch(); d != nil && d.Name() == a.Name() {
			a = d
		}
		w.stacks, w.bounded = append([]Stack(nil), c.Stacks()...), true
	}
	fr, ok1 := a.(arch.Frames)
	er, ok2 := a.(arch.ExceptionRecords)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("%w: %s has no frame records", ErrNoUnwinder, a.Name())
	}
	w.frames, w.set, w.rec = fr, a.Registers(), er.PtRegsRecord()
	if len(regs) < len(w.set.Names) {
		return nil, fmt.Errorf("%d registers, want %d", len(regs), len(w.set.Names))
	}
	regs = append([]uint64(nil), regs[:len(w.set.Names)]...)
	pc := fr.CodeAddr(regs[w.set.PC])
	lookup := pc
	if fromReturn {
		lookup = fr.CallSite(pc)
	}
	var frames []Frame
	defer func() { // [SP, CallerSP) is each frame's area up to the next frame
		for i := 0; i+1 < len(frames); i++ {
			frames[i].CallerSP = frames[i+1].SP
		}
	}()
	for len(frames) < max {
		f := Frame{PC: pc, Lookup: lookup, SP: regs[w.set.SP], Regs: regs}
		next, err := w.step(&f)
		frames = append(frames, f)
		if err != nil {
			return frames, fmt.Errorf("frame %d (%#x): %w", len(frames)-1, f.PC, err)
		}
		regs = next
		pc = fr.CodeAddr(regs[w.set.PC])
		if f.Trap {
			lookup = pc // the interrupted instruction itself
		} else {
			lookup = fr.CallSite(regs[w.set.PC])
		}
	}
	return frames, nil
}

// step reads the frame record x29 points at and returns the caller's
// registers: x29 and pc from the record, sp the record's address (where
// the caller's frame begins); through a pt_regs' record, the whole
// pt_regs. It sets f.Trap, f.SP and f.CallerSP for a pt_regs record.
func (w *arm64Walk) step(f *Frame) ([]uint64, error) {
	fp := f.Regs[w.set.FP]
	if fp == 0 {
		return nil, fmt.Errorf("x29 is 0: no frame record: %w", ErrCantUnwind)
	}
	if err := w.consume(fp, 16); err != nil {
		return nil, err
	}
	callerFP, err := w.mem.ReadUint(fp, 8)
	if err != nil {
		return nil, fmt.Errorf("frame record at %#x: %w", fp, err)
	}
	ret, err := w.mem.ReadUint(fp+8, 8)
	if err != nil {
		return nil, fmt.Errorf("frame record at %#x: %w", fp, err)
	}
	ptRegs := fp - uint64(w.rec.Offset)
	if callerFP == 0 && ret == 0 {
		// The record of a pt_regs at the bottom of the task (6.12), or
		// 6.13's marker whose type word says which.
		if w.rec.TypeOffset != 0 {
			if typ, err := w.mem.ReadUint(ptRegs+uint64(w.rec.TypeOffset), 8); err == nil && typ == 2 {
				return w.exception(f, ptRegs)
			}
		}
		f.SP, f.CallerSP = ptRegs, ptRegs+uint64(w.rec.Size)
		return nil, fmt.Errorf("final frame record at %#x: %w", fp, ErrCantUnwind)
	}
	if w.rec.TypeOffset == 0 && w.isExceptionRecord(ptRegs, callerFP, ret) {
		return w.exception(f, ptRegs)
	}
	if ret == 0 {
		return nil, fmt.Errorf("frame record at %#x: return address is 0: %w", fp, ErrCantUnwind)
	}
	next := make([]uint64, len(f.Regs))
	next[w.set.FP], next[w.set.PC], next[w.set.SP] = callerFP, ret, callerFP
	return next, nil
}

// isExceptionRecord reports whether the record {x29, lr} at the
// stackframe of a pt_regs at ptRegs is the synthetic one entry.S builds
// for an exception from EL1: the pt_regs holds the same x29 and pc, and
// its pstate says AArch64 at EL1.
func (w *arm64Walk) isExceptionRecord(ptRegs, x29, lr uint64) bool {
	if !w.onStack(ptRegs, uint64(w.rec.Size)) {
		return false
	}
	r, err := w.readPtRegs(ptRegs)
	if err != nil {
		return false
	}
	pstate := r[33]
	return r[29] == x29 && r[32] == lr && pstate&0x10 == 0 && pstate&0xc == 4
}

// exception ends frame f at the pt_regs it saved and returns the
// interrupted registers.
func (w *arm64Walk) exception(f *Frame, ptRegs uint64) ([]uint64, error) {
	r, err := w.readPtRegs(ptRegs)
	if err != nil {
		return nil, fmt.Errorf("pt_regs at %#x: %w", ptRegs, err)
	}
	f.Trap, f.SP = true, ptRegs
	return r, nil
}

func (w *arm64Walk) readPtRegs(addr uint64) ([]uint64, error) {
	r := make([]uint64, len(w.set.Names))
	for i := range r {
		v, err := w.mem.ReadUint(addr+uint64(8*i), 8)
		if err != nil {
			return nil, err
		}
		r[i] = v
	}
	return r, nil
}

// consume accepts the object [addr, addr+size) as the walk's next: on
// the current stack above what was read, or on a stack not yet visited
// (which becomes the current one: transitions are one-way). Without
// bounds, records must simply climb.
func (w *arm64Walk) consume(addr, size uint64) error {
	if addr&7 != 0 {
		return fmt.Errorf("%w: frame record address %#x is not 8-byte aligned", ErrOffStack, addr)
	}
	if !w.bounded {
		if w.lastFP != 0 && addr <= w.lastFP {
			return fmt.Errorf("frame record at %#x is not above the previous one at %#x: %w", addr, w.lastFP, ErrLoop)
		}
		w.lastFP = addr
		return nil
	}
	if w.cur.High == 0 || addr < w.low || !w.cur.contains(addr, size) {
		i := -1
		for j, s := range w.stacks {
			if s.contains(addr, size) {
				i = j
				break
			}
		}
		if i < 0 {
			where := "outside the task's stacks"
			if w.cur.contains(addr, size) {
				where = fmt.Sprintf("below %#x, where the walk already is on the %s stack", w.low, w.cur.Name)
			}
			return fmt.Errorf("%w: frame record at %#x is %s", ErrOffStack, addr, where)
		}
		w.cur = w.stacks[i]
		w.stacks = append(w.stacks[:i], w.stacks[i+1:]...)
	}
	w.low = addr + size
	return nil
}

// onStack reports whether [addr, addr+size) lies on the current stack
// (anywhere in it: a pt_regs sits below its record).
func (w *arm64Walk) onStack(addr, size uint64) bool {
	return !w.bounded || w.cur.contains(addr, size)
}
