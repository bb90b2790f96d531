package kernel

import (
	"errors"
	"fmt"
	"slices"

	"github.com/kdumpkit/kdumpkit/analyze/arch"
	"github.com/kdumpkit/kdumpkit/analyze/unwind"
)

// MaxFrames bounds a backtrace.
const MaxFrames = 64

// Backtrace is the unwound kernel stack of one task.
type Backtrace struct {
	Task   Task
	Frames []unwind.Frame
	// Start says where the first registers came from: "NT_PRSTATUS" for a
	// task running on a dumped CPU, "cpu_context" for a sleeping one,
	// "IRQ stack" for a CPU the crash stopped whose note holds the
	// registers the stop IPI interrupted (arch.CrashStop): the walk
	// starts at the IPI handler's frames and passes through those
	// registers at the exception frame.
	Start string
	// Saved are register sets to show after a frame, by frame index, each
	// RegisterSet.Shown long: the crash registers after frame 0, a pt_regs
	// an exception entry saved on the stack after that entry's frame, and
	// the user registers the entry from user space saved after the last.
	Saved map[int][]uint64
	// Stop is why the walk ended early, nil for a normal end.
	Stop error
}

// frames returns the dump's stack conventions, or why a backtrace
// cannot be had on its architecture.
func (k *Kernel) frames() (arch.Frames, arch.RegisterSet, error) {
	if k.Arch == nil {
		return nil, arch.RegisterSet{}, ErrNoFrames
	}
	f, ok := k.Arch.(arch.Frames)
	if !ok {
		return nil, arch.RegisterSet{}, fmt.Errorf("%w: %s", ErrNoFrames, k.Arch.Name())
	}
	return f, k.Arch.Registers(), nil
}

// threadSize is the kernel stack size: THREAD_SIZE as the linker script
// laid out init's stack (INIT_TASK_DATA in
// include/asm-generic/vmlinux.lds.h: __end_init_task = __start_init_task
// + THREAD_SIZE, named __start/__end_init_stack since 6.2), else
// sizeof(union thread_union), else the arch's default. The symbols come
// first because DWARF often lacks thread_union (6.1 on ARM32 and 6.12 on
// arm64 never use it), and asking for a name DWARF lacks makes the index
// scan every unit.
func (k *Kernel) threadSize(fr arch.Frames) uint64 {
	if k.Syms != nil {
		for _, bounds := range [][2]string{{"__start_init_task", "__end_init_task"}, {"__start_init_stack", "__end_init_stack"}} {
			start, err1 := k.Syms.Addr(bounds[0])
			end, err2 := k.Syms.Addr(bounds[1])
			if n := end - start; err1 == nil && err2 == nil && end > start && n >= 4096 && n&(n-1) == 0 {
				return n
			}
		}
	}
	if k.Types != nil {
		if n, err := k.Types.Size("union thread_union"); err == nil && n > 0 {
			return uint64(n)
		}
	}
	return fr.ThreadSize()
}

// Registers returns frame-0 registers of a task, in the arch's
// RegisterSet order: from the CPU note when the task was running on a
// dumped CPU (CPUOf), else from the save area the context switch filled
// (arch.Frames.SwitchFrame), whose pc is a return address.
func (k *Kernel) Registers(t Task) ([]uint64, string, error) {
	fr, set, err := k.frames()
	if err != nil {
		return nil, "", err
	}
	regs := make([]uint64, len(set.Names))
	if st, ok := k.CPUOf(t); ok && len(st.Regs) >= len(regs) {
		copy(regs, st.Regs)
		return regs, "NT_PRSTATUS", nil
	}
	sw := fr.SwitchFrame()
	base, err := k.off("struct task_struct", sw.Member)
	if err != nil {
		return nil, "", err
	}
	buf := make([]byte, len(sw.Regs)*k.PtrSize)
	if err := k.Mem.ReadVirt(t.Addr+uint64(base), buf); err != nil {
		return nil, "", fmt.Errorf("task %#x %s: %w", t.Addr, sw.Member, err)
	}
	for i, r := range sw.Regs {
		regs[r] = arch.Word(buf[i*k.PtrSize:], k.PtrSize, k.Order)
	}
	return regs, "cpu_context", nil
}

// Backtrace unwinds a task's kernel stack with u and finds the register
// sets saved along it.
func (k *Kernel) Backtrace(t Task, u unwind.Unwinder) (Backtrace, error) {
	bt := Backtrace{Task: t, Saved: map[int][]uint64{}}
	regs, start, err := k.Registers(t)
	if err != nil {
		return bt, err
	}
	bt.Start = start
	// From cpu_context, pc is a return address into __schedule: name it
	// at its call site like any caller frame.
	ctx := k.walkContext(t, start == "NT_PRSTATUS")
	frames, err := u.Walk(regs, start == "cpu_context", ctx, MaxFrames)
	if start == "NT_PRSTATUS" {
		if f, ferr, ok := k.crashStopWalk(t, regs, u, ctx); ok {
			frames, err, bt.Start = f, ferr, "IRQ stack"
		}
	}
	bt.Frames = frames
	if !unwind.IsEnd(err) {
		bt.Stop = err
	}
	k.savedRegs(&bt, errors.Is(err, unwind.ErrCantUnwind))
	return bt, nil
}

// crashStopWalk finds, for a task running on a CPU the crash stopped,
// the frame of the function that saved its note (arch.CrashStop) on that
// CPU's per-CPU stacks, and walks from there. The walk counts only if it
// passes an exception frame whose pt_regs are the note's registers, so a
// stale frame of that function cannot start it.
func (k *Kernel) crashStopWalk(t Task, note []uint64, u unwind.Unwinder, ctx taskWalk) ([]unwind.Frame, error, bool) {
	fr, set, err := k.frames()
	cs, ok := fr.(arch.CrashStop)
	if err != nil || !ok || k.Syms == nil {
		return nil, nil, false
	}
	st, ok := k.CPUOf(t)
	if cpu, err := k.PanicCPU(); !ok || err != nil || cpu == st.CPU {
		return nil, nil, false // the panic CPU saved its own registers
	}
	fn, ptr := cs.CrashStopFunc(), k.PtrSize
	for _, s := range ctx.stacks {
		if s.Name == "task" || s.High-s.Low > 1<<20 {
			continue
		}
		stack := make([]byte, s.High-s.Low)
		if err := k.Mem.ReadVirt(s.Low, stack); err != nil {
			continue
		}
		for off := 0; off+2*ptr <= len(stack); off += ptr {
			ret := arch.Word(stack[off+ptr:], ptr, k.Order)
			if sym, _, err := k.Syms.At(fr.CallSite(ret)); err != nil || sym.Name != fn {
				continue
			}
			rec, fp := s.Low+uint64(off), arch.Word(stack[off:], ptr, k.Order)
			// The record of a callee of fn: {fn's record, return into fn}.
			regs := make([]uint64, len(set.Names))
			regs[set.FP], regs[set.SP], regs[set.PC] = fp, rec+uint64(2*ptr), ret
			frames, err := u.Walk(regs, true, ctx, MaxFrames)
			for i, f := range frames {
				if f.Trap && i+1 < len(frames) && slices.Equal(frames[i+1].Regs[:set.Shown], note[:set.Shown]) {
					return frames, err, true
				}
			}
		}
	}
	return nil, nil, false
}

// taskWalk is what a walk of one task reads (unwind.Context): the
// kernel's memory and arch, and the task's stacks.
type taskWalk struct {
	*Kernel
	stacks []unwind.Stack
}

func (w taskWalk) DumpArch() arch.Arch    { return w.Kernel.Arch }
func (w taskWalk) Stacks() []unwind.Stack { return w.stacks }

// walkContext lists the stacks t's frames may lie on: its kernel stack
// and, when it was running (onCPU), the per-CPU stacks of its CPU that the
// arch names (arch.CPUStacks). A per-CPU stack that cannot be located is
// left out, so a frame on it ends the walk with an error naming the
// address rather than being trusted.
func (k *Kernel) walkContext(t Task, onCPU bool) taskWalk {
	w := taskWalk{Kernel: k}
	fr, _, err := k.frames()
	if err != nil {
		return w
	}
	size := k.threadSize(fr)
	if t.Stack != 0 {
		w.stacks = append(w.stacks, unwind.Stack{Name: "task", Low: t.Stack, High: t.Stack + size})
	}
	cs, ok := fr.(arch.CPUStacks)
	if !ok || !onCPU {
		return w
	}
	st, ok := k.CPUOf(t)
	if !ok {
		return w
	}
	for _, s := range cs.CPUStacks() {
		addr, err := k.PerCPU(s.Symbol, st.CPU)
		if err != nil {
			continue
		}
		if s.Pointer {
			if addr, err = k.ReadPtr(addr); err != nil || addr == 0 {
				continue
			}
		}
		n := s.Size
		if n == 0 {
			n = size
		}
		w.stacks = append(w.stacks, unwind.Stack{Name: s.Name, Low: addr, High: addr + n})
	}
	return w
}

// savedRegs fills bt.Saved; atEntry says the walk ended at entry code,
// where a user task's registers are at the top of its stack.
func (k *Kernel) savedRegs(bt *Backtrace, atEntry bool) {
	fr, set, _ := k.frames()
	t, last := bt.Task, len(bt.Frames)-1
	for i, f := range bt.Frames {
		var r []uint64
		if i == 0 && bt.Start == "NT_PRSTATUS" {
			if c, ok := k.CPUOf(t); ok && len(c.Regs) >= set.Shown {
				r = c.Regs[:set.Shown]
			}
		}
		if i == last && atEntry && t.MM != 0 && t.Stack != 0 {
			r = k.readRegs(fr.UserRegs(t.Stack, k.threadSize(fr)), set.Shown, r)
		}
		if f.Trap {
			r = k.readRegs(f.SP, set.Shown, r)
		} else if k.Syms != nil {
			if sym, _, err := k.Syms.At(f.Lookup); err == nil && fr.ExceptionFrame(sym.Name) {
				r = k.readRegs(f.SP, set.Shown, r)
			}
		}
		if r != nil {
			bt.Saved[i] = r
		}
	}
}

// readRegs reads n pointer-sized registers at addr, or returns old when
// any of them is unreadable.
func (k *Kernel) readRegs(addr uint64, n int, old []uint64) []uint64 {
	buf := make([]byte, n*k.PtrSize)
	if err := k.Mem.ReadVirt(addr, buf); err != nil {
		return old
	}
	out := make([]uint64, n)
	for i := range out {
		out[i] = arch.Word(buf[i*k.PtrSize:], k.PtrSize, k.Order)
	}
	return out
}
