// Package arch is the seam between the analyzer and the architectures a
// dump may come from — ARM32 (arm.go, arm_frames.go), arm64 (arm64.go,
// arm64_frames.go) and x86_64 (x86_64.go), in drgn's shape (libdrgn/arch_*.c) as small Go
// interfaces: virtual-to-physical translation (the linear map and a
// page-table walk from the kernel's own top-level table, per each
// architecture's MMU reference), the register file of pt_regs and
// NT_PRSTATUS (struct elf_prstatus), and, optionally, the stack-frame
// conventions a backtrace needs (Frames: return-address adjustment, the
// context-switch save area, exception frames, show_regs). The dump's
// architecture is a run-time value: ForMachine(elf.EM_ARM). The stack
// unwinders live in analyze/unwind, chosen by the same ELF machine, so
// that this package stays small enough for the capture tool on the board.
//
// API: ForMachine → Arch; PRStatus(arch, note); NewMemory(dump) → *Memory
// whose ReadVirt/ReadU32/ReadU64/ReadPtr/ReadCString read kernel virtual
// memory.
package arch
