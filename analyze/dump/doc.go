// Package dump reads vmcores: ELF vmcores — the /proc/vmcore format of the kernel's
// fs/proc/vmcore.c and kexec's elfcorehdr (ELF32 or ELF64 ET_CORE, either
// byte order): PT_LOAD segments map physical memory to file offsets and
// PT_NOTE segments carry per-CPU NT_PRSTATUS notes and VMCOREINFO.
//
// API: Open(path) or New(io.ReaderAt, size, name) give a *File;
// (*File).ReadPhys reads physical memory without ever loading a segment
// whole; Notes, PRStatus and VMCOREINFO return the notes; ParseNotes parses
// a raw PT_NOTE payload.
//
// It also reads makedumpfile's kdump-compressed dumps and their flattened
// streams (package diskdump) behind the same File: notes and VMCOREINFO
// from the sub-header, one Segment per run of RAM in the 1st bitmap, and
// a page the dump level filtered out reads as ErrExcluded naming the
// address and level, never as zeros.
package dump
