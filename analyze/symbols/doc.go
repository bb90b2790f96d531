// Package symbols reads a kernel image's ELF symbol table (System V ABI,
// "Symbol Table" chapter, with the ARM ELF mapping-symbol convention of
// AAELF32 §5.5.5), keeps a built table in a file for the next run over the
// same vmlinux, and checks its GNU build ID against the dump's VMCOREINFO.
package symbols
