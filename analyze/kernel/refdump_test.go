package kernel

import (
	"debug/elf"
	"path/filepath"
	"testing"

	"github.com/kdumpkit/kdumpkit/analyze/arch"
	"github.com/kdumpkit/kdumpkit/analyze/dump"
	"github.com/kdumpkit/kdumpkit/analyze/symbols"
	"github.com/kdumpkit/kdumpkit/analyze/types"
	"github.com/kdumpkit/kdumpkit/analyze/unwind"
	"github.com/kdumpkit/kdumpkit/internal/testdump"
)

type reference struct {
	dir    string
	kernel *Kernel
	unwind *unwind.ARM
	syms   *symbols.Table
}

// openReference loads the test dump (package testdump) through
// analyze/dump and analyze/arch.
func openReference(t testing.TB) *reference {
	dir := testdump.Require(t).Dir
	ef, err := elf.Open(filepath.Join(dir, "vmlinux"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ef.Close() })
	syms, err := symbols.FromELF(ef)
	if err != nil {
		t.Fatal(err)
	}
	ty, err := types.Open(filepath.Join(dir, "vmlinux"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ty.Close() })
	u, err := unwind.LoadARM(ef)
	if err != nil {
		t.Fatal(err)
	}
	d, err := dump.Open(filepath.Join(dir, "vmcore"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	mem, err := arch.NewMemory(d)
	if err != nil {
		t.Fatal(err)
	}
	var cpus []CPUState
	for i, desc := range d.PRStatus() {
		r, err := arch.PRStatus(mem.Arch, desc, d.ByteOrder)
		if err != nil {
			t.Fatal(err)
		}
		cpus = append(cpus, CPUState{CPU: i, PID: r.PID, Regs: r.Regs})
	}
	k := New(mem, syms, ty, d.ByteOrder, mem.Arch.PtrSize(), cpus)
	k.Arch = mem.Arch
	return &reference{dir: dir, kernel: k, unwind: u, syms: syms}
}
