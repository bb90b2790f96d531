// Package kexec loads a kernel to boot on crash (or on demand) with the
// kernel's kexec_load(2) and kexec_file_load(2) system calls
// (include/uapi/linux/kexec.h), without kexec-tools.
//
// With kexec_file_load the kernel reads the files and builds the rest.
// With kexec_load this package builds what the kernel needs itself:
// segments for the kernel, the initrd, an edited device tree and an ELF
// core header describing the crashed kernel's memory (/proc/iomem System
// RAM minus the crash region, per-CPU crash_notes, VMCOREINFO), placed
// inside the "Crash kernel" reservation. ARM32 has only kexec_load
// (PlanARM, laid out as kexec-tools lays it out). arm64 uses
// kexec_file_load and falls back to kexec_load (PlanARM64) when the kernel
// lacks it: there the header also maps the kernel image (_text.._end) and
// puts RAM in the linear map that VMCOREINFO's PHYS_OFFSET and VA_BITS
// (read from /proc/kcore) describe, the device tree carries
// linux,elfcorehdr, linux,usable-memory-range and fresh KASLR and RNG
// seeds, and a few instructions of purgatory enter the Image with x0
// pointing at the device tree. x86_64 uses kexec_file_load.
//
// API: Load(Options) loads a kernel with the Method asked for; PlanARM
// and PlanARM64 compute a layout without loading it (for -d and tests);
// ParseIOMem, ParseZImage, ParseARM64Image and EditDTB are their parts.
package kexec
