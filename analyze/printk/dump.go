package printk

import (
	"fmt"

	"github.com/kdumpkit/kdumpkit/analyze/arch"
	"github.com/kdumpkit/kdumpkit/analyze/dump"
)

// ReadDump reads the kernel log of an opened vmcore from its VMCOREINFO
// alone (no vmlinux): virtual memory for the dump's arch, then Read. It
// is the one sequence `kdumpkit dmesg` and the capture tool's log both
// need.
func ReadDump(d *dump.File) (*Log, error) {
	m, err := arch.NewMemory(d)
	if err != nil {
		return nil, err
	}
	log, err := Read(m, d.ByteOrder, m.Arch.PtrSize(), m.Info)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", d.Name, err)
	}
	return log, nil
}
