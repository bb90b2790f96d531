package kernel

import (
	"debug/elf"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/kdumpkit/kdumpkit/analyze/arch"
)

func armArch(t *testing.T) arch.Arch {
	a, err := arch.ForMachine(elf.EM_ARM)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func noteRegs(pc uint64) []uint64 {
	r := make([]uint64, 18)
	for i := range r {
		r[i] = uint64(0x1000 + i)
	}
	r[15] = pc
	return r
}

// TestRegistersFromNoteWhenRunqueueUnreadable: on a dump cut in half the
// runqueues are gone but the CPU note is not; the task it names must get
// the crash registers, not its stale cpu_context.
func TestRegistersFromNoteWhenRunqueueUnreadable(t *testing.T) {
	k := New(wordMem{}, nil, nil, binary.LittleEndian, 4, []CPUState{{CPU: 0, PID: 42, Regs: noteRegs(0x80123456)}})
	k.Arch = armArch(t)
	regs, src, err := k.Registers(Task{PID: 42, Addr: 0xc1000000})
	if err != nil || src != "NT_PRSTATUS" || regs[15] != 0x80123456 || regs[4] != 0x1004 {
		t.Errorf("Registers = %#x, %q, %v; want the NT_PRSTATUS registers", regs, src, err)
	}
	if c, ok := k.CPUOf(Task{PID: 43}); ok {
		t.Errorf("CPUOf(PID 43) = CPU %d, want none", c.CPU)
	}
}

// TestIdlePIDNamesNoCPU: PID 0 is every CPU's idle task, so with two
// CPUs a note's PID 0 names no task in particular.
func TestIdlePIDNamesNoCPU(t *testing.T) {
	cpus := []CPUState{{CPU: 0, PID: 0, Regs: noteRegs(1)}, {CPU: 1, PID: 0, Regs: noteRegs(2)}}
	k := New(wordMem{}, nil, nil, binary.LittleEndian, 4, cpus)
	if c, ok := k.CPUOf(Task{PID: 0, Addr: 0xc2000000}); ok {
		t.Errorf("CPUOf(idle task) = CPU %d with two CPUs, want none", c.CPU)
	}
	one := New(wordMem{}, nil, nil, binary.LittleEndian, 4, cpus[:1])
	if _, ok := one.CPUOf(Task{PID: 0}); !ok {
		t.Error("one CPU with PID 0: its note is the idle task's")
	}
}

// TestRegistersFromSwitchFrame: a sleeping task's registers come from the
// save area the arch names, each word at its register's index.
func TestRegistersFromSwitchFrame(t *testing.T) {
	k := New(wordMem{}, nil, nil, binary.LittleEndian, 4, nil)
	for m, member := range map[elf.Machine]string{elf.EM_ARM: "thread_info.cpu_context", elf.EM_AARCH64: "thread.cpu_context"} {
		k.Arch, _ = arch.ForMachine(m)
		if _, _, err := k.Registers(Task{PID: 1}); !errors.Is(err, ErrNoTypes) || !strings.Contains(err.Error(), member) {
			t.Errorf("%s without DWARF: %v, want ErrNoTypes naming %s", k.Arch.Name(), err, member)
		}
	}
	k.Arch, _ = arch.ForMachine(elf.EM_X86_64)
	if _, _, err := k.Registers(Task{PID: 1}); !errors.Is(err, ErrNoFrames) {
		t.Errorf("x86_64: %v, want ErrNoFrames", err)
	}
}
