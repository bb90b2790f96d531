// Package symbols reads a kernel image's ELF symbol table (System V ABI,
// "Symbol Table" chapter, with the ARM ELF mapping-symbol convention of
// AAELF32 §5.5.5) and checks its GNU build ID against the dump's VMCOREINFO.
package symbols
