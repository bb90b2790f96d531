// Package kexec loads a kernel to boot on crash (or on demand) with the
// kernel's kexec_load(2) and kexec_file_load(2) system calls
// (include/uapi/linux/kexec.h), without kexec-tools.
//
// ARM32 has no kexec_file_load, so for it this package builds what the
// kernel needs itself: segments for the zImage, the initrd, an edited
// device tree and an ELF core header describing the crashed kernel's
// memory (/proc/iomem System RAM minus the crash region, per-CPU
// crash_notes, VMCOREINFO), placed inside the "Crash kernel" reservation as
// kexec-tools places them. arm64 and x86_64 use kexec_file_load, where the
// kernel builds the header.
//
// API: LoadCrash(Options) loads a crash kernel; PlanARM computes an ARM32
// layout without loading it (for -d and tests); ParseIOMem, ParseZImage
// and EditDTB are its parts.
package kexec
