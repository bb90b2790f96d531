// Package arch holds what differs between the architectures a dump may
// come from — ARM32 (arm.go), arm64 (arm64.go) and x86_64 (x86_64.go):
// virtual-to-physical translation (the linear map and a page-table walk
// from the kernel's own top-level table, per each architecture's MMU
// reference) and registers from NT_PRSTATUS notes (struct elf_prstatus
// with the arch's pt_regs). The dump's architecture is a run-time value:
// ForMachine(elf.EM_ARM).
//
// API: ForMachine → Arch; NewMemory(dump, vmcoreinfo) → *Memory whose
// ReadVirt/ReadU32/ReadU64/ReadPtr/ReadCString read kernel virtual memory.
package arch
