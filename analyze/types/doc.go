// Package types answers kernel type questions (struct layouts, member
// offsets, sizes, variable types) from a vmlinux's DWARF (DWARF 4/5, the
// DWARF Debugging Information Format, §2 and §5), through a name index
// that grows unit by unit only as far as the names asked for need, and is
// kept between runs in a cache file.
package types
