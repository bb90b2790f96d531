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
	UserRegs []uint64
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
func (k *Kernel) Registers(t Task) ([]uint64, string, error) {
	regs := make([]uint64, 18)
	if st, ok := k.CPUOf(t); ok && len(st.Regs) >= 16 {
		copy(regs, st.Regs)
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
	for i, r := range ctx[:8] {
		regs[4+i] = uint64(r)
	}
	regs[13], regs[15] = uint64(ctx[8]), uint64(ctx[9])
	return regs, "cpu_context", nil
}

// Backtrace unwinds a task's kernel stack with the ARM EHABI tables.
func (k *Kernel) Backtrace(t Task, u unwind.Unwinder) (Backtrace, error) {
	bt := Backtrace{Task: t}
	regs, start, err := k.Registers(t)
	if err != nil {
		return bt, err
	}
	bt.Start = start
	// From cpu_context, pc is a return address into __schedule: name it
	// at its call site like any caller frame.
	frames, err := u.Walk(regs, start == "cpu_context", k, MaxFrames)
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
func (k *Kernel) userRegs(t Task) []uint64 {
	const n = 18
	addr := t.Stack + k.threadSize() - 8 - 4*n
	buf := make([]byte, 4*n)
	if err := k.Mem.ReadVirt(addr, buf); err != nil {
		return nil
	}
	out := make([]uint64, n)
	for i := range out {
		out[i] = uint64(k.Order.Uint32(buf[4*i:]))
	}
	return out
}
