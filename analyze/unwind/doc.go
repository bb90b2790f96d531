// Package unwind walks kernel stacks back from a set of registers, with
// one unwinder per architecture picked by For from the vmlinux's ELF
// machine. arm.go follows the "Exception Handling ABI for the Arm
// Architecture" (EHABI, ARM IHI 0038), §6–§10, as the kernel's
// UNWINDER_ARM emits it into .ARM.exidx and .ARM.extab, inside an
// arch-neutral loop (walk.go); arm64.go follows frame records (AAPCS64
// §6.2.3) the way arch/arm64/kernel/stacktrace.c does, across the
// pt_regs that entry.S saves and from stack to stack, with its own loop
// since its progress is per stack; x86_64 has none yet (ErrNoUnwinder).
package unwind
