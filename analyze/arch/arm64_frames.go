package arch

import (
	"fmt"
	"strings"
)

// The arm64 stack conventions (Frames) of arch/arm64, Linux 6.12: frame
// records chained through x29, context switch in cpu_switch_to, and
// entry.S's pt_regs with a frame record inside.

// arm64PtRegs is the part of struct pt_regs (arch/arm64/include/asm/
// ptrace.h) beyond its user_pt_regs prefix that unwinding needs. Zero
// values mean 6.12's layout: x0–x30, sp, pc, pstate, orig_x0,
// syscallno/unused2, sdei_ttbr1, pmr_save, stackframe[2], lockdep_hardirqs,
// exit_rcu.
type arm64PtRegs struct {
	size, stackframe int64
	// metaType is the offset of stackframe.type, the frame_record_meta
	// word 6.13 added (arm64: stacktrace: unwind exception boundaries); 0
	// when the kernel has none.
	metaType int64
}

const (
	arm64PtRegsSize       = 336 // sizeof(struct pt_regs), 6.1–6.12
	arm64PtRegsStackframe = 304 // offsetof(struct pt_regs, stackframe), S_STACKFRAME
)

// PtRegsRecord is where arm64's entry code keeps a frame record in the
// pt_regs it saves (entry.S kernel_entry): for an exception from EL1 the
// record holds the interrupted x29 and pc, so a frame-pointer walk passes
// through it; from EL0 it is the final record, {0, 0}.
type PtRegsRecord struct {
	// Offset is offsetof(struct pt_regs, stackframe) and Size is
	// sizeof(struct pt_regs).
	Offset, Size int64
	// TypeOffset is the offset of the record's type word (6.13+'s struct
	// frame_record_meta: 1 final, 2 pt_regs), 0 when the kernel has none.
	TypeOffset int64
}

// ExceptionRecords is implemented by an Arch whose exception entries
// put a frame record in pt_regs (arm64).
type ExceptionRecords interface {
	PtRegsRecord() PtRegsRecord
}

// PtRegsRecord is the vmlinux's layout when WithLayout found one, else
// 6.12's.
func (a arm64) PtRegsRecord() PtRegsRecord {
	r := PtRegsRecord{Offset: arm64PtRegsStackframe, Size: arm64PtRegsSize, TypeOffset: a.regs.metaType}
	if a.regs.size > 0 {
		r.Offset, r.Size = a.regs.stackframe, a.regs.size
	}
	return r
}

// WithLayout takes struct pt_regs from the vmlinux's DWARF. A layout that
// cannot hold the registers and the record (a vmlinux without DWARF, a
// hostile one) leaves 6.12's.
func (a arm64) WithLayout(l TypeLayout) Arch {
	size, err1 := l.Size("struct pt_regs")
	off, err2 := l.Offset("struct pt_regs", "stackframe")
	const user = 34 * 8 // user_pt_regs: the registers ShowRegs reads
	if err1 != nil || err2 != nil || off < user || off%8 != 0 || off+16 > size || size > 4096 {
		return a
	}
	a.regs = arm64PtRegs{size: size, stackframe: off}
	if t, err := l.Offset("struct pt_regs", "stackframe.type"); err == nil && t >= off+16 && t+8 <= size {
		a.regs.metaType = t
	}
	return a
}

// CodeAddr strips the pointer authentication code from a return address:
// kernel addresses (bit 55 set) get the PAC bits set, user ones cleared
// (ptrauth_strip_kernel_insn_pac and drgn's demangling do the same).
func (a arm64) CodeAddr(pc uint64) uint64 {
	if pc>>55&1 != 0 {
		return pc | a.pacMask
	}
	return pc &^ a.pacMask
}

// CallSite: every A64 instruction is 4 bytes, BL and BLR included.
func (a arm64) CallSite(ret uint64) uint64 { return a.CodeAddr(ret) - 4 }

// SwitchFrame: cpu_switch_to (entry.S) stores x19–x28, x29, sp and lr —
// the return address into __switch_to — in thread.cpu_context.
func (arm64) SwitchFrame() SavedRegs {
	return SavedRegs{Member: "thread.cpu_context", Regs: []int{19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 31, 32}}
}

// ThreadSize is THREAD_SIZE with 4K pages: 1 << MIN_THREAD_SHIFT (14).
// (64K pages with VMAP_STACK make it 64 KiB; DWARF's union thread_union
// says so when the vmlinux has it.)
func (arm64) ThreadSize() uint64 { return 16384 }

// UserRegs is task_pt_regs(): the pt_regs at the top of the stack
// (THREAD_SIZE − sizeof(struct pt_regs), arch/arm64/include/asm/processor.h).
func (a arm64) UserRegs(stack, threadSize uint64) uint64 {
	return stack + threadSize - uint64(a.PtRegsRecord().Size)
}

// ExceptionFrame: the vectors of entry.S (entry_handler) that save a
// pt_regs at their stack pointer, for exceptions taken at EL1 and EL0.
func (arm64) ExceptionFrame(fn string) bool {
	for _, el := range []string{"el1t_64_", "el1h_64_", "el0t_64_", "el0t_32_"} {
		if rest, ok := strings.CutPrefix(fn, el); ok {
			switch rest {
			case "sync", "irq", "fiq", "error":
				return true
			}
		}
	}
	return false
}

// CPUStacks: the per-CPU stacks arch/arm64/kernel/stacktrace.c unwinds
// across besides the task's own (IRQ_STACK_SIZE and SDEI_STACK_SIZE are
// THREAD_SIZE, OVERFLOW_STACK_SIZE 4 KiB).
func (arm64) CPUStacks() []CPUStack {
	return []CPUStack{
		{Name: "IRQ", Symbol: "irq_stack_ptr", Pointer: true},
		{Name: "overflow", Symbol: "overflow_stack", Size: 4096},
		{Name: "SDEI", Symbol: "sdei_stack_normal_ptr", Pointer: true},
		{Name: "SDEI critical", Symbol: "sdei_stack_critical_ptr", Pointer: true},
	}
}

// CrashStopFunc: ipi_cpu_crash_stop (arch/arm64/kernel/smp.c) passes
// get_irq_regs() — the interrupted registers — to crash_save_cpu, on the
// IRQ stack, and then parks or powers off the CPU, so crash_save_cpu's
// frame stays there (crash's arm64 bt starts a stopped CPU from it too).
func (arm64) CrashStopFunc() string { return "crash_save_cpu" }

// ShowRegs prints a pt_regs as crash's arm64 bt prints an exception
// frame (arm64_print_exception_frame): pc, lr (PAC stripped) and their
// symbols, sp and pstate, then x29 down to x0 three a line. An exception
// from user space (pstate's EL 0) has no kernel symbols to name; its
// pstate goes on the first line, as crash does for 32-bit tasks, since
// orig_x0 and syscallno are not among the registers shown.
func (a arm64) ShowRegs(r []uint64, name func(addr uint64) string) []string {
	pc, lr, sp, pstate := r[32], a.CodeAddr(r[30]), r[31], r[33]
	var lines []string
	if pstate&0xc == 0 { // EL0
		lines = append(lines, fmt.Sprintf(" PC: %016x   LR: %016x   SP: %016x  PSTATE: %08x", pc, lr, sp, pstate))
	} else {
		sym := func(addr uint64) string {
			if s := name(addr); s != "" {
				return "[" + s + "]"
			}
			return "[unknown or invalid address]"
		}
		lines = append(lines,
			fmt.Sprintf(" PC: %016x  %s", pc, sym(pc)),
			fmt.Sprintf(" LR: %016x  %s", lr, sym(lr)),
			fmt.Sprintf(" SP: %016x  PSTATE: %08x", sp, pstate))
	}
	var row []string
	for i := 29; i >= 0; i-- {
		row = append(row, fmt.Sprintf("%3s: %016x", fmt.Sprintf("X%d", i), r[i]))
		if len(row) == 3 || i == 0 {
			lines = append(lines, strings.Join(row, "  "))
			row = nil
		}
	}
	return lines
}
