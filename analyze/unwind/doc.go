// Package unwind walks kernel stacks back from a set of registers: an
// arch-neutral walk (walk.go) around one stepper per architecture, picked
// by For from the vmlinux's ELF machine. arm.go follows the "Exception
// Handling ABI for the Arm Architecture" (EHABI, ARM IHI 0038), §6–§10, as
// the kernel's UNWINDER_ARM emits it into .ARM.exidx and .ARM.extab;
// arm64 and x86_64 have none yet (ErrNoUnwinder).
package unwind
