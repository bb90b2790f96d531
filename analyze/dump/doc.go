// Package dump reads ELF vmcores — the /proc/vmcore format of the kernel's
// fs/proc/vmcore.c and kexec's elfcorehdr (ELF32 or ELF64 ET_CORE, either
// byte order): PT_LOAD segments map physical memory to file offsets and
// PT_NOTE segments carry per-CPU NT_PRSTATUS notes and VMCOREINFO.
//
// API: Open(path) or New(io.ReaderAt, size, name) give a *File;
// (*File).ReadPhys reads physical memory without ever loading a segment
// whole; Notes, PRStatus and VMCOREINFO return the notes; ParseNotes parses
// a raw PT_NOTE payload.
package dump
