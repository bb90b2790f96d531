package commands

import (
	"fmt"
	"io"
	"strconv"
)

// mach is crash's mach: the machine's type, memory, CPUs, HZ, page size
// and, on ARM, the kernel's address-space bases (arch/arm/include/asm/
// memory.h: modules sit 16 MiB below PAGE_OFFSET; crash shows
// high_memory, where vmalloc space begins, as the vmalloc base).
func (s *Session) mach(w io.Writer, args []string) error {
	if len(args) > 1 {
		return fmt.Errorf("mach: option %s not supported: %w", args[1], ErrUsage)
	}
	k := s.Kernel
	row := func(label, value string) { fmt.Fprintf(w, "%19s: %s\n", label, value) }
	uts, _ := k.UTSName()
	row("MACHINE TYPE", uts.Machine)
	row("MEMORY SIZE", formatBytes(s.memory()))
	row("CPUS", strconv.Itoa(len(k.CPUs)))
	row("PROCESSOR SPEED", "(unknown)")
	if hz, err := k.HZ(); err == nil {
		row("HZ", strconv.FormatUint(hz, 10))
	}
	row("PAGE SIZE", strconv.FormatUint(k.PageSize(), 10))
	if base, err := k.KernelVirtualBase(); err == nil {
		row("KERNEL VIRTUAL BASE", fmt.Sprintf("%x", base))
		if s.Machine == "arm" {
			row("KERNEL MODULES BASE", fmt.Sprintf("%x", (base-16<<20)&k.Mask()))
			if a, err := k.Syms.Addr("high_memory"); err == nil {
				if hm, err := k.ReadPtr(a); err == nil {
					row("KERNEL VMALLOC BASE", fmt.Sprintf("%x", hm))
				}
			}
		}
	}
	if n := k.StackSize(); n > 0 {
		row("KERNEL STACK SIZE", strconv.FormatUint(n, 10))
	}
	return nil
}
