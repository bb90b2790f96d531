package disasm

import (
	"debug/elf"
	"encoding/binary"
	"errors"
	"testing"
)

func le(w uint32) []byte { b := make([]byte, 4); binary.LittleEndian.PutUint32(b, w); return b }

// TestARM: instructions of the vexpress kernel's schedule() and panic(),
// as gdb (crash 8.0.2's dis) prints them.
func TestARM(t *testing.T) {
	d, err := For(elf.EM_ARM)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		word uint32
		pc   uint64
		want string
	}{
		{0xe92d4830, 0x808cc2d4, "push {r4, r5, r11, lr}"},
		{0xee1d4f70, 0x808cc2d8, "mrc 15, 0, r4, cr13, cr0, {3}"},
		{0xe28db00c, 0x808cc2dc, "add r11, sp, #12"},
		{0xe1a00100, 0, "lsl r0, r0, #2"},
		{0xebfffffe, 0x1000, "bl 0x1000"},
		{0x1e1d4f70, 0, "mrcne 15, 0, r4, cr13, cr0, {3}"},
	} {
		in, err := d.Decode(le(c.word), c.pc)
		if err != nil {
			t.Errorf("%#08x: %v", c.word, err)
			continue
		}
		if got := in.Mnemonic + " " + in.Operands; got != c.want || in.Len != 4 {
			t.Errorf("%#08x = %q (len %d), want %q", c.word, got, in.Len, c.want)
		}
	}
	if in, _ := d.Decode(le(0xebfffffe), 0x1000); in.Target != 0x1000 {
		t.Errorf("bl . target = %#x", in.Target)
	}
	if _, err := d.Decode([]byte{1, 2}, 0); err == nil {
		t.Error("2 bytes decoded as an ARM instruction")
	}
	if _, err := For(elf.EM_MIPS); !errors.Is(err, ErrArch) {
		t.Errorf("MIPS: %v", err)
	}
}

func TestARM64AndX86(t *testing.T) {
	a, _ := For(elf.EM_AARCH64)
	if in, err := a.Decode(le(0xd503201f), 0); err != nil || in.Mnemonic != "nop" {
		t.Errorf("arm64 nop: %+v %v", in, err)
	}
	if in, _ := a.Decode(le(0x94000000), 0x4000); in.Target != 0x4000 || in.Mnemonic != "bl" {
		t.Errorf("arm64 bl .: %+v", in)
	}
	x, _ := For(elf.EM_X86_64)
	if in, err := x.Decode([]byte{0xe8, 0, 0, 0, 0}, 0x1000); err != nil || in.Len != 5 || in.Target != 0x1005 {
		t.Errorf("x86 call: %+v %v", in, err)
	}
}

// FuzzDecode: any bytes decode to an instruction of a sane length or an
// error, on every machine.
func FuzzDecode(f *testing.F) {
	f.Add([]byte{0x30, 0x48, 0x2d, 0xe9}, uint64(0x808cc2d4))
	f.Fuzz(func(t *testing.T, code []byte, pc uint64) {
		for _, m := range []elf.Machine{elf.EM_ARM, elf.EM_AARCH64, elf.EM_X86_64} {
			d, _ := For(m)
			in, err := d.Decode(code, pc)
			if err == nil && (in.Len <= 0 || in.Len > d.MaxLen()) {
				t.Fatalf("%v: length %d", m, in.Len)
			}
		}
	})
}
