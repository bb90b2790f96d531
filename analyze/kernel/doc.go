// Package kernel reads Linux kernel data structures out of a dump — the task
// list, each task's state and memory counters, the task active on each CPU,
// the panic task and saved registers — following the layouts of the
// kernel's include/linux/sched.h and mm_types.h (6.1) as the vmlinux DWARF
// describes them, so no offset is hard-coded.
package kernel
