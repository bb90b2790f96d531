package kernel

import (
	"fmt"
)

// PerCPU returns the address of a per-CPU variable's copy for cpu:
// &sym + __per_cpu_offset[cpu] (include/asm-generic/percpu.h).
func (k *Kernel) PerCPU(sym string, cpu int) (uint64, error) {
	base, err := k.symbol(sym)
	if err != nil {
		return 0, err
	}
	offs, err := k.symbol("__per_cpu_offset")
	if err != nil {
		return base, nil // !SMP: the variable itself
	}
	if n := k.possibleCPUs(); cpu < 0 || cpu >= n {
		return 0, fmt.Errorf("%s:%d: the kernel has CPUs 0 to %d", sym, cpu, n-1)
	}
	o, err := k.ReadPtr(offs + uint64(cpu*k.PtrSize))
	if err != nil {
		return 0, fmt.Errorf("__per_cpu_offset[%d]: %w", cpu, err)
	}
	return (base + o) & k.mask(), nil
}

// Mask is the all-ones value of the kernel's word: addresses and longs
// wrap there.
func (k *Kernel) Mask() uint64 { return k.mask() }

func (k *Kernel) mask() uint64 {
	if k.PtrSize == 4 {
		return 0xffffffff
	}
	return ^uint64(0)
}

// ActiveTask returns the task running on cpu at crash time: the per-CPU
// runqueue's curr. (On ARM 6.1 with CURRENT_POINTER_IN_TPIDRURO, current
// lives in a register the dump does not save, and thread_info is inside
// task_struct, so the stack pointer does not lead to it either.)
func (k *Kernel) ActiveTask(cpu int) (uint64, error) {
	rq, err := k.PerCPU("runqueues", cpu)
	if err != nil {
		return 0, err
	}
	off, err := k.off("struct rq", "curr")
	if err != nil {
		return 0, err
	}
	t, err := k.ReadPtr(rq + uint64(off))
	if err != nil {
		return 0, fmt.Errorf("runqueues[%d].curr: %w", cpu, err)
	}
	return t, nil
}

// PanicCPU reads panic_cpu (atomic_t, PANIC_CPU_INVALID = -1 when no CPU
// panicked, since 4.5). When the variable is unreadable and the dump has
// exactly one CPU note, that CPU is the answer.
func (k *Kernel) PanicCPU() (int, error) {
	a, err := k.symbol("panic_cpu")
	if err == nil {
		v, rerr := k.ReadUint(a, 4)
		if rerr == nil && int32(v) >= 0 {
			return int(int32(v)), nil
		}
		if rerr == nil {
			err = fmt.Errorf("panic_cpu is %d: %w", int32(v), ErrNoPanic)
		} else {
			err = rerr
		}
	}
	if len(k.CPUs) == 1 {
		return k.CPUs[0].CPU, nil
	}
	return -1, err
}

// Panic is the panicking CPU and the task that ran there.
type Panic struct {
	Task Task
	CPU  int
	// Warning is set when the sources disagree or a fallback was used.
	Warning error
}

// PanicTask finds the task that panicked: panic_cpu's running task. It is
// cross-checked with the pid in that CPU's NT_PRSTATUS note; a disagreement
// is reported in Warning with the runqueue's answer kept.
func (k *Kernel) PanicTask() (Panic, error) {
	cpu, err := k.PanicCPU()
	if err != nil {
		return Panic{CPU: -1}, err
	}
	p := Panic{CPU: cpu}
	addr, err := k.ActiveTask(cpu)
	if err == nil {
		if p.Task, err = k.TaskByAddr(addr); err != nil {
			p.Task, err = k.Task(addr) // not on the task list: read it alone
		}
		if err == nil {
			if st, ok := k.cpuState(cpu); ok && st.PID != p.Task.PID {
				p.Warning = fmt.Errorf("runqueue of CPU %d says PID %d, its NT_PRSTATUS says PID %d", cpu, p.Task.PID, st.PID)
			}
			return p, nil
		}
	}
	// Without DWARF or a readable runqueue, fall back to the note's pid.
	if st, ok := k.cpuState(cpu); ok {
		if t, ferr := k.TaskByPID(st.PID); ferr == nil {
			p.Task = t
			p.Warning = fmt.Errorf("runqueue unreadable (%v); used NT_PRSTATUS PID %d", err, st.PID)
			return p, nil
		}
	}
	return p, fmt.Errorf("task on panic CPU %d: %w", cpu, err)
}

func (k *Kernel) cpuState(cpu int) (CPUState, bool) {
	for _, c := range k.CPUs {
		if c.CPU == cpu {
			return c, true
		}
	}
	return CPUState{}, false
}

// TaskByPID finds a task by PID (the thread with that id).
func (k *Kernel) TaskByPID(pid int) (Task, error) {
	ts, _ := k.Tasks()
	for _, t := range ts {
		if t.PID == pid {
			return t, nil
		}
	}
	return Task{}, fmt.Errorf("no task with PID %d", pid)
}

// TaskByAddr finds a task by its task_struct address.
func (k *Kernel) TaskByAddr(addr uint64) (Task, error) {
	ts, _ := k.Tasks()
	for _, t := range ts {
		if t.Addr == addr {
			return t, nil
		}
	}
	return Task{}, fmt.Errorf("no task at %#x", addr)
}

// ActiveTasks maps each dumped CPU to the task running on it: its
// runqueue's curr or, when that is unreadable, the task with the PID of
// the CPU's NT_PRSTATUS (see CPUOf).
func (k *Kernel) ActiveTasks() map[int]uint64 {
	out := map[int]uint64{}
	for _, c := range k.CPUs {
		if a, err := k.ActiveTask(c.CPU); err == nil {
			out[c.CPU] = a
		} else if k.pidNamesTask(c.PID) {
			if t, err := k.TaskByPID(c.PID); err == nil {
				out[c.CPU] = t.Addr
			}
		}
	}
	return out
}

// CPUOf returns the dumped CPU that task t was running on at crash time,
// whose NT_PRSTATUS holds its registers: the CPU whose runqueue's curr is
// t or, when that runqueue is unreadable, the CPU whose note names t's
// PID. The per-CPU runqueues sit high in RAM (memblock allocates the
// per-CPU areas top-down), so a dump cut in half loses them while the
// notes survive: without the PID rule the panic task fell back to its
// stale cpu_context and bt showed __schedule instead of the crash.
func (k *Kernel) CPUOf(t Task) (CPUState, bool) {
	for _, c := range k.CPUs {
		a, err := k.ActiveTask(c.CPU)
		if err == nil && a == t.Addr || err != nil && c.PID == t.PID && k.pidNamesTask(c.PID) {
			return c, true
		}
	}
	return CPUState{}, false
}

// pidNamesTask reports whether a note's PID identifies one task: PID 0 is
// every CPU's idle task, so it does only when one CPU was dumped.
func (k *Kernel) pidNamesTask(pid int) bool { return pid != 0 || len(k.CPUs) == 1 }
