// Package types answers kernel type questions (struct layouts, member
// offsets, sizes, variable types) from a vmlinux's DWARF (DWARF 4/5, the
// DWARF Debugging Information Format, §2 and §5), through a name index that
// is built lazily the first time a name is asked for.
package types
