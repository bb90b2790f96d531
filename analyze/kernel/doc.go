// Package kernel reads Linux kernel data structures out of a dump — the task
// list, each task's state and memory counters, the task active on each CPU,
// the panic task and saved registers — following the layouts of the
// kernel's include/linux/sched.h and mm_types.h (6.1) as the vmlinux DWARF
// describes them, so no offset is hard-coded. It also opens a dump, as
// drgn's Program does: Open(vmlinux, vmcore) → *Program, the reader with
// its arch and VMCOREINFO (Vmcore), the vmlinux's symbols — moved by
// KERNELOFFSET under KASLR —, types and unwinder (Image), checked against
// each other (match.go), and the helpers over both (Kernel), among them
// the facts crash's sys prints (sys.go), the walks of red-black trees,
// XArrays and maple trees (tree.go), what slab object an address is in
// (slabobject.go), the exception frames on a stack (eframes.go) and the
// registered character and block device majors (dev.go) and I/O
// resource trees (resource.go).
package kernel
