package unwind

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

// elfHeader is a minimal ELF64 header of machine m with no sections.
func elfHeader(t *testing.T, m elf.Machine) *elf.File {
	t.Helper()
	h := elf.Header64{Type: uint16(elf.ET_EXEC), Machine: uint16(m), Version: 1, Ehsize: 64}
	copy(h.Ident[:], elf.ELFMAG)
	h.Ident[elf.EI_CLASS], h.Ident[elf.EI_DATA], h.Ident[elf.EI_VERSION] = byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), 1
	var b bytes.Buffer
	if err := binary.Write(&b, binary.LittleEndian, h); err != nil {
		t.Fatal(err)
	}
	f, err := elf.NewFile(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestForLeavesOutArches: x86_64 has no unwinder yet, and says so by name
// rather than returning a stub; arm64 unwinds by frame records, which
// need no table from the image.
func TestForLeavesOutArches(t *testing.T) {
	u, err := For(elfHeader(t, elf.EM_X86_64))
	if u != nil || !errors.Is(err, ErrNoUnwinder) || !strings.Contains(err.Error(), "x86_64") {
		t.Errorf("x86_64: %v, %v; want ErrNoUnwinder naming x86_64", u, err)
	}
	if u, err := For(elfHeader(t, elf.EM_AARCH64)); err != nil {
		t.Errorf("arm64: %v", err)
	} else if _, ok := u.(*ARM64); !ok {
		t.Errorf("arm64: %T, want the frame-record unwinder", u)
	}
	if _, err := For(elfHeader(t, elf.EM_ARM)); !errors.Is(err, ErrNoTable) {
		t.Errorf("ARM image without .ARM.exidx: %v, want ErrNoTable", err)
	}
}

// TestWalkFromReturn: a sleeping task's pc is a return address, named at
// its call site (pc-4 on ARM) from frame 0 on.
func TestWalkFromReturn(t *testing.T) {
	const idx = 0x9000
	exidx := words(
		exidxWord(0x8000, idx), 0x80b0b0b0, // the caller: finish
		exidxWord(0x8010, idx+8), exidxCantUnwind, // the function after it
	)
	a, err := NewARM(exidx, idx, nil, 0, binary.LittleEndian)
	if err != nil {
		t.Fatal(err)
	}
	frames, _ := a.Walk(armRegs(0x8010, 0, 0x2000), true, memStack{}, 1)
	if len(frames) != 1 || frames[0].Lookup != 0x800c || frames[0].Func != 0x8000 || frames[0].PC != 0x8010 {
		t.Errorf("frames %+v, want frame 0 named at 0x800c in the function at 0x8000", frames)
	}
}
