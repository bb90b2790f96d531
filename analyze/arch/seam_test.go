package arch

import (
	"debug/elf"
	"encoding/binary"
	"strings"
	"testing"
)

// TestARMRegisterLayout reads a synthetic ARM NT_PRSTATUS whose every
// register holds 0x1000+index, and checks that the named registers land
// where the seam says: sp r13, lr r14, pc r15, fp r11, cpsr and orig_r0.
func TestARMRegisterLayout(t *testing.T) {
	var regs [18]uint32
	for i := range regs {
		regs[i] = 0x1000 + uint32(i)
	}
	a, err := ForMachine(elf.EM_ARM)
	if err != nil {
		t.Fatal(err)
	}
	r, err := PRStatus(a, prstatusARM(7, regs), binary.LittleEndian)
	if err != nil {
		t.Fatal(err)
	}
	set := a.Registers()
	for name, want := range map[string]uint64{"sp": 0x100d, "lr": 0x100e, "pc": 0x100f, "fp": 0x100b, "cpsr": 0x1010, "orig_r0": 0x1011} {
		i := indexOf(set.Names, name)
		if i < 0 || r.Regs[i] != want {
			t.Errorf("%s: index %d, regs %#x, want %#x", name, i, r.Regs, want)
		}
	}
	if r.PID != 7 || r.PC != r.Regs[set.PC] || r.SP != r.Regs[set.SP] || r.Regs[set.LR] != 0x100e || r.Regs[set.FP] != 0x100b {
		t.Errorf("PRStatus = %+v with set %+v", r, set)
	}
}

func indexOf(names []string, name string) int {
	for i, n := range names {
		if n == name {
			return i
		}
	}
	return -1
}

// TestPRStatus64 lays out a 64-bit struct elf_prstatus (pr_pid at 32,
// pr_reg at 112) and checks each 64-bit arch's PC and SP indexes.
func TestPRStatus64(t *testing.T) {
	for _, m := range []elf.Machine{elf.EM_AARCH64, elf.EM_X86_64} {
		a, err := ForMachine(m)
		if err != nil {
			t.Fatal(err)
		}
		set := a.Registers()
		desc := make([]byte, 112+8*len(set.Names))
		binary.LittleEndian.PutUint32(desc[32:], 99)
		for i := range set.Names {
			binary.LittleEndian.PutUint64(desc[112+8*i:], 0xffff000000000000+uint64(i))
		}
		r, err := PRStatus(a, desc, binary.LittleEndian)
		if err != nil || r.PID != 99 || r.PC != 0xffff000000000000+uint64(set.PC) || r.SP != 0xffff000000000000+uint64(set.SP) {
			t.Errorf("%s: %+v, %v", a.Name(), r, err)
		}
		if set.Shown > len(set.Names) || set.PC < 0 || set.SP < 0 {
			t.Errorf("%s: register set %+v", a.Name(), set)
		}
		if _, err := PRStatus(a, desc[:len(desc)-1], binary.LittleEndian); err == nil {
			t.Errorf("%s: short note accepted", a.Name())
		}
	}
}

// TestARMFrames: the return-address adjustment names the call, Thumb or
// not, wrapping at 32 bits; the entry code's pt_regs sits 8 bytes under
// the stack top; show_regs decodes cpsr.
func TestARMFrames(t *testing.T) {
	a, _ := ForMachine(elf.EM_ARM)
	f, ok := a.(Frames)
	if !ok {
		t.Fatal("ARM has no Frames")
	}
	for ret, want := range map[uint64]uint64{0x80100064: 0x80100060, 0x80100065: 0x80100060, 2: 0xfffffffe} {
		if got := f.CallSite(ret); got != want {
			t.Errorf("CallSite(%#x) = %#x, want %#x", ret, got, want)
		}
	}
	if got := f.UserRegs(0xa8a5c000, 8192); got != 0xa8a5c000+8192-8-72 {
		t.Errorf("UserRegs = %#x", got)
	}
	sw := f.SwitchFrame()
	if sw.Member != "thread_info.cpu_context" || len(sw.Regs) != 10 || sw.Regs[8] != a.Registers().SP || sw.Regs[9] != a.Registers().PC {
		t.Errorf("SwitchFrame = %+v", sw)
	}
	r := make([]uint64, 18)
	r[16] = 0x60000093
	if lines := f.ShowRegs(r, nil); len(lines) != 6 || lines[5] != "Flags: nZCv  IRQs off  FIQs on  Mode SVC_32  ISA ARM" {
		t.Errorf("ShowRegs = %q", strings.Join(lines, "\n"))
	}
	if !f.ExceptionFrame("__irq_svc") || f.ExceptionFrame("panic") {
		t.Error("ExceptionFrame")
	}
}

// TestFramesLeftOut: x86_64 has no backtrace yet and does not pretend to
// have one; arm64 has.
func TestFramesLeftOut(t *testing.T) {
	for m, want := range map[elf.Machine]bool{elf.EM_AARCH64: true, elf.EM_X86_64: false} {
		a, _ := ForMachine(m)
		if _, ok := a.(Frames); ok != want {
			t.Errorf("%s implements Frames: %v, want %v", a.Name(), ok, want)
		}
	}
}
