package kernel

import (
	"errors"
	"fmt"

	"github.com/kdumpkit/kdumpkit/analyze/unwind"
)

// MaxFrames bounds a backtrace.
const MaxFrames = 64

// Backtrace is the unwound kernel stack of one task.
type Backtrace struct {
	Task   Task
	Frames []unwind.Frame
	// Start says where the first registers came from: "NT_PRSTATUS" for a
	// task running on a dumped CPU, "cpu_context" for a sleeping one.
	Start string
	// UserRegs are the pt_regs saved at the top of the kernel stack on
	// entry from user space (r0–r15, cpsr, orig_r0), when the walk reached
	// the entry code.
	UserRegs []uint32
	// Stop is why the walk ended early, nil for a normal end.
	Stop error
}

// threadSize is the kernel stack size: sizeof(union thread_union), 8 KiB on
// ARM32 when DWARF cannot say.
func (k *Kernel) threadSize() uint64 {
	if k.Types != nil {
		if n, err := k.Types.Size("union thread_union"); err == nil && n > 0 {
			return uint64(n)
		}
	}
	return 8192
}

// Registers returns frame-0 registers of a task: from the CPU note when the
// task was running on a dumped CPU (CPUOf), else from thread_info.cpu_context,
// which __switch_to filled (r4–r9, sl, fp, sp and the return address into
// __schedule as pc; ARM, 6.1).
func (k *Kernel) Registers(t Task) (unwind.ARMRegs, string, error) {
	var regs unwind.ARMRegs
	if st, ok := k.CPUOf(t); ok && len(st.Regs) >= 16 {
		for i := 0; i < 16; i++ {
			regs[i] = uint32(st.Regs[i])
		}
		return regs, "NT_PRSTATUS", nil
	}
	base, err := k.off("struct task_struct", "thread_info.cpu_context")
	if err != nil {
		return regs, "", err
	}
	var ctx [10]uint32 // r4 r5 r6 r7 r8 r9 sl fp sp pc
	buf := make([]byte, 40)
	if err := k.Mem.ReadVirt(t.Addr+uint64(base), buf); err != nil {
		return regs, "", fmt.Errorf("task %#x cpu_context: %w", t.Addr, err)
	}
	for i := range ctx {
		ctx[i] = k.Order.Uint32(buf[4*i:])
	}
	copy(regs[4:12], ctx[:8])
	regs[unwind.SP], regs[unwind.PC] = ctx[8], ctx[9]
	return regs, "cpu_context", nil
}

// stack adapts Memory to the unwinder, confined to one task's stack plus
// whatever else is readable (exception frames may point elsewhere).
type stack struct{ k *Kernel }

func (s stack) ReadU32(addr uint32) (uint32, error) {
	v, err := s.k.ReadUint(uint64(addr), 4)
	return uint32(v), err
}

// Backtrace unwinds a task's kernel stack with the ARM EHABI tables.
func (k *Kernel) Backtrace(t Task, u *unwind.ARM) (Backtrace, error) {
	bt := Backtrace{Task: t}
	regs, start, err := k.Registers(t)
	if err != nil {
		return bt, err
	}
	bt.Start = start
	walk := u.Walk
	if start == "cpu_context" {
		// pc is a return address into __schedule: name it at pc-4 like any
		// caller frame.
		walk = u.WalkFromReturn
	}
	frames, err := walk(regs, stack{k}, MaxFrames)
	bt.Frames = frames
	if !unwind.IsEnd(err) {
		bt.Stop = err
	}
	if errors.Is(err, unwind.ErrCantUnwind) && t.MM != 0 && t.Stack != 0 {
		bt.UserRegs = k.userRegs(t)
	}
	return bt, nil
}

// userRegs reads the pt_regs the syscall/exception entry saved at the top
// of the stack: task_pt_regs() = stack + THREAD_START_SP - sizeof(pt_regs),
// THREAD_START_SP = THREAD_SIZE - 8 (arch/arm/include/asm/processor.h).
func (k *Kernel) userRegs(t Task) []uint32 {
	const n = 18
	addr := t.Stack + k.threadSize() - 8 - 4*n
	buf := make([]byte, 4*n)
	if err := k.Mem.ReadVirt(addr, buf); err != nil {
		return nil
	}
	out := make([]uint32, n)
	for i := range out {
		out[i] = k.Order.Uint32(buf[4*i:])
	}
	return out
}
