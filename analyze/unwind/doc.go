// Package unwind walks kernel stacks back from a set of registers, one file
// per architecture; arm.go follows the "Exception Handling ABI for the Arm
// Architecture" (EHABI, ARM IHI 0038), §6–§10, as the kernel's
// UNWINDER_ARM emits it into .ARM.exidx and .ARM.extab.
package unwind
