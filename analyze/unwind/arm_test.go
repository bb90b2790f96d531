package unwind

import (
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"github.com/kdumpkit/kdumpkit/internal/testdump"
)

// memStack is a byte-buffer stack starting at base.
type memStack struct {
	base uint32
	data []byte
}

func (m memStack) ReadUint(addr uint64, size int) (uint64, error) {
	if size != 4 || addr < uint64(m.base) || addr+4 > uint64(m.base)+uint64(len(m.data)) {
		return 0, fmt.Errorf("%d bytes at %#x outside the test stack", size, addr)
	}
	return uint64(binary.LittleEndian.Uint32(m.data[addr-uint64(m.base):])), nil
}

// armRegs is an ARM NT_PRSTATUS register file (r0–r15, cpsr, orig_r0)
// with pc, lr and sp set.
func armRegs(pc, lr, sp uint64) []uint64 {
	r := make([]uint64, 18)
	r[PC], r[LR], r[SP] = pc, lr, sp
	return r
}

func words(ws ...uint32) []byte {
	b := make([]byte, 4*len(ws))
	for i, w := range ws {
		binary.LittleEndian.PutUint32(b[4*i:], w)
	}
	return b
}

// exidxWord encodes the prel31 offset from at to target.
func exidxWord(target, at uint32) uint32 { return (target - at) & 0x7fffffff }

func TestExecuteOpcodes(t *testing.T) {
	stack := memStack{base: 0x1000, data: words(0x44, 0x55, 0x66, 0xbeef, 0xa0, 0xa1, 0xa2, 0xa3, 0x2000, 0x1234)}
	cases := []struct {
		name    string
		ops     []byte
		vsp     uint32
		pc      uint32
		pcSet   bool
		reg     int
		regVal  uint32
		wantErr error
	}{
		{name: "vsp+=16", ops: []byte{0x03}, vsp: 0x1010},
		{name: "vsp-=8", ops: []byte{0x03, 0x41}, vsp: 0x1008},
		{name: "pop r4-r6,r14", ops: []byte{0xaa}, vsp: 0x1010, reg: LR, regVal: 0xbeef},
		{name: "pop r4-r5 (10100nnn)", ops: []byte{0xa1}, vsp: 0x1008, reg: 5, regVal: 0x55},
		{name: "pop mask r4,pc", ops: []byte{0x88, 0x01}, vsp: 0x1008, pc: 0x55, pcSet: true},
		{name: "pop r0-r3 mask", ops: []byte{0x03, 0xb1, 0x0f}, vsp: 0x1020, reg: 3, regVal: 0xa3},
		{name: "vsp=r7", ops: []byte{0x97}, vsp: 0x1004, reg: 7, regVal: 0x1004},
		{name: "finish stops", ops: []byte{0xb0, 0x03}, vsp: 0x1000},
		{name: "vsp+=0x204+uleb", ops: []byte{0xb2, 0x01}, vsp: 0x1000 + 0x208},
		{name: "vpop d8-d9", ops: []byte{0xd1}, vsp: 0x1010},
		{name: "fstmfdx d8", ops: []byte{0xb8}, vsp: 0x100c},
		{name: "refuse", ops: []byte{0x80, 0x00}, wantErr: ErrRefuse},
		{name: "spare", ops: []byte{0xb4}, wantErr: ErrBadOpcode},
		{name: "vsp=sp reserved", ops: []byte{0x9d}, wantErr: ErrBadOpcode},
		{name: "pop sp takes effect last", ops: []byte{0x82, 0x00}, vsp: 0x44}, // mask bit 9 = r13
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := vm{vsp: 0x1000, mem: armStack{stack}}
			v.regs[7] = 0x1004
			err := v.execute(c.ops)
			if c.wantErr != nil {
				if !errors.Is(err, c.wantErr) {
					t.Fatalf("err = %v, want %v", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if v.vsp != c.vsp {
				t.Errorf("vsp = %#x, want %#x", v.vsp, c.vsp)
			}
			if v.pcSet != c.pcSet || v.regs[PC] != c.pc {
				t.Errorf("pc = %#x set=%v, want %#x set=%v", v.regs[PC], v.pcSet, c.pc, c.pcSet)
			}
			if c.reg != 0 && v.regs[c.reg] != c.regVal {
				t.Errorf("r%d = %#x, want %#x", c.reg, v.regs[c.reg], c.regVal)
			}
		})
	}
}

// TestWalkSynthetic builds a three-function image: leaf (no stack use,
// su16 inline "finish"), mid (push {r4, lr}; sub sp, #8 — inline su16),
// top (lu16 in extab: pop {r4-r11, lr}) and entry (cantunwind).
func TestWalkSynthetic(t *testing.T) {
	const (
		leaf  = 0x8000
		mid   = 0x8100
		top   = 0x8200
		entry = 0x8300
		idx   = 0x9000
		tab   = 0xa000
	)
	exidx := words(
		exidxWord(leaf, idx), 0x80b0b0b0, // su16: finish
		exidxWord(mid, idx+8), 0x80_01_a8_b0, // vsp += 8; pop {r4, r14}
		exidxWord(top, idx+16), exidxWord(tab, idx+20), // -> extab
		exidxWord(entry, idx+24), exidxCantUnwind,
	)
	extab := words(0x81_00_ad_b0) // lu16, 0 extra words: pop {r4-r9, r14}; finish
	a, err := NewARM(exidx, idx, extab, tab, binary.LittleEndian)
	if err != nil {
		t.Fatal(err)
	}
	// Stack, growing down: mid's frame (8 bytes locals, r4, lr->top+0x10),
	// then top's frame (r4-r9, lr->entry+0x20).
	stack := memStack{base: 0x2000, data: words(
		0, 0, 0x4444, top+0x10, // mid: locals, r4, lr
		4, 5, 6, 7, 8, 9, entry+0x20, // top
		0xdead,
	)}
	frames, err := a.Walk(armRegs(leaf+4, mid+0x14, 0x2000), false, stack, 16)
	if !errors.Is(err, ErrCantUnwind) {
		t.Fatalf("walk ended with %v, want ErrCantUnwind at entry", err)
	}
	want := []struct{ fn, pc, sp uint64 }{
		{leaf, leaf + 4, 0x2000}, {mid, mid + 0x14, 0x2000}, {top, top + 0x10, 0x2010}, {entry, entry + 0x20, 0x202c},
	}
	if len(frames) != len(want) {
		t.Fatalf("got %d frames %+v, want %d", len(frames), frames, len(want))
	}
	for i, w := range want {
		f := frames[i]
		if f.Func != w.fn || f.PC != w.pc || f.SP != w.sp {
			t.Errorf("frame %d = fn %#x pc %#x sp %#x, want fn %#x pc %#x sp %#x", i, f.Func, f.PC, f.SP, w.fn, w.pc, w.sp)
		}
	}
	if frames[2].Regs[9] != 0 || frames[3].Regs[9] != 9 {
		t.Errorf("r9 not restored by top's pop: %#x", frames[3].Regs[9])
	}
}

// TestWalkNoreturnCaller: a return address that is the first instruction of
// the next function must be looked up at pc-4, in the caller.
func TestWalkNoreturnCaller(t *testing.T) {
	const idx = 0x9000
	exidx := words(
		exidxWord(0x8000, idx), 0x80_a8_b0_b0, // caller: pop {r4, r14}
		exidxWord(0x8010, idx+8), exidxCantUnwind, // next function
		exidxWord(0x8100, idx+16), 0x80b0b0b0, // callee: leaf
	)
	a, err := NewARM(exidx, idx, nil, 0, binary.LittleEndian)
	if err != nil {
		t.Fatal(err)
	}
	stack := memStack{base: 0x2000, data: words(1, 0x8204, 0)}
	frames, err := a.Walk(armRegs(0x8100, 0x8010, 0x2000), false, stack, 3)
	if len(frames) < 2 || frames[1].Func != 0x8000 {
		t.Fatalf("caller of a noreturn call: frames %+v, err %v", frames, err)
	}
}

func TestWalkLoopGuard(t *testing.T) {
	const idx = 0x9000
	a, err := NewARM(words(exidxWord(0x8000, idx), 0x80b0b0b0), idx, nil, 0, binary.LittleEndian)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Walk(armRegs(0x8004, 0x8004, 0x2000), false, memStack{}, 100); !errors.Is(err, ErrLoop) {
		t.Fatalf("self-loop: err = %v, want ErrLoop", err)
	}
}

func FuzzExecute(f *testing.F) {
	f.Add([]byte{0xaa, 0xb0})
	f.Add([]byte{0x80, 0x00})
	f.Add([]byte{0xb2, 0xff, 0xff, 0xff, 0xff, 0x7f})
	f.Add([]byte{0x9b, 0xb1, 0x0f, 0xc7, 0x03, 0xb3, 0x12})
	stack := memStack{base: 0x1000, data: make([]byte, 256)}
	f.Fuzz(func(t *testing.T, ops []byte) {
		v := vm{vsp: 0x1000, mem: armStack{stack}}
		_ = v.execute(ops)
	})
}

func FuzzWalk(f *testing.F) {
	f.Add(words(0x7ffff000, 0x80b0b0b0, 0x7ffff000, 0x00000ff0), words(0x81_01_ad_b0, 0xb0b0b0b0), uint32(0x8000))
	f.Fuzz(func(t *testing.T, exidx, extab []byte, pc uint32) {
		a, err := NewARM(exidx[:len(exidx)&^7], 0x9000, extab, 0xa000, binary.LittleEndian)
		if err != nil {
			return
		}
		_, _ = a.Walk(armRegs(uint64(pc), 0, 0x1000), false, memStack{base: 0x1000, data: make([]byte, 128)}, 32)
	})
}

// referenceVmlinux is the vmlinux of the test dump (package testdump).
func referenceVmlinux(t testing.TB) string { return testdump.Require(t).Vmlinux }

// TestReferenceTablesDecode decodes every unwind entry of the reference
// vmlinux: none may use a reserved opcode or a missing extab word.
func TestReferenceTablesDecode(t *testing.T) {
	f, err := elf.Open(referenceVmlinux(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	a, err := LoadARM(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.entries) < 1000 {
		t.Fatalf("only %d exidx entries", len(a.entries))
	}
	zero := memStack{base: 0, data: make([]byte, 1<<16)}
	var cant, bad int
	for _, e := range a.entries {
		ops, err := a.instructions(e)
		if errors.Is(err, ErrCantUnwind) {
			cant++
			continue
		}
		if err != nil {
			t.Errorf("entry for %#x: %v", e.fn, err)
			continue
		}
		v := vm{vsp: 0x100, mem: armStack{zero}}
		v.regs[11] = 0x200 // some frames restore sp from fp
		if err := v.execute(ops); err != nil && !errors.Is(err, ErrRefuse) {
			bad++
			if bad < 10 {
				t.Errorf("entry for %#x ops % x: %v", e.fn, ops, err)
			}
		}
	}
	t.Logf("%d entries, %d cantunwind", len(a.entries), cant)
}
