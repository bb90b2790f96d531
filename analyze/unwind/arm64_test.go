package unwind

import (
	"debug/elf"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/kdumpkit/kdumpkit/analyze/arch"
	"github.com/kdumpkit/kdumpkit/analyze/vmcoreinfo"
)

// words64 is sparse 64-bit memory for arm64 stacks; a read of a word
// never written fails as unmapped memory does.
type words64 map[uint64]uint64

func (m words64) ReadUint(addr uint64, size int) (uint64, error) {
	v, ok := m[addr]
	if size != 8 || !ok {
		return 0, fmt.Errorf("%d bytes at %#x: not in the test memory", size, addr)
	}
	return v, nil
}

// arm64Task is a Context: the memory, the dump's arch and the stacks.
type arm64Task struct {
	words64
	a      arch.Arch
	stacks []Stack
}

func (t arm64Task) DumpArch() arch.Arch { return t.a }
func (t arm64Task) Stacks() []Stack     { return t.stacks }

func (m words64) record(at, fp, lr uint64) { m[at], m[at+8] = fp, lr }

// ptRegs writes a 6.12 pt_regs at addr with x29, pc, sp and pstate and
// its stackframe record; x[i] = 0x1000 + i for the others.
func (m words64) ptRegs(addr, x29, pc, sp, pstate uint64) {
	for i := range 31 {
		m[addr+uint64(8*i)] = 0x1000 + uint64(i)
	}
	m[addr+29*8], m[addr+31*8], m[addr+32*8], m[addr+33*8] = x29, sp, pc, pstate
	m.record(addr+304, x29, pc)
}

func arm64Regs(pc, fp, sp uint64) []uint64 {
	r := make([]uint64, 34)
	r[32], r[29], r[31], r[30] = pc, fp, sp, 0xdead
	return r
}

// The synthetic kernel: functions at these addresses (the unwinder needs
// no symbols; the test names frames by them).
const (
	task     = 0xffff800080240000 // a 16 KiB VMAP_STACK task stack
	irqStack = 0xffff800080008000 // CPU 0's IRQ stack
	top      = task + 0x4000

	fnLeaf    = 0xffffd9f2be0ba000 // ipi handler work, on the IRQ stack
	fnGIC     = 0xffffd9f2be0bb000 // gic_handle_irq
	fnOnIRQ   = 0xffffd9f2be0bc000 // call_on_irq_stack
	fnEl1IRQ  = 0xffffd9f2be0bd000 // el1_interrupt
	fnVector  = 0xffffd9f2be011000 // el1h_64_irq
	fnIdle    = 0xffffd9f2be434f00 // default_idle_call: interrupted at its first instruction
	fnDoIdle  = 0xffffd9f2be064d00 // do_idle
	fnEl0Sync = 0xffffd9f2be011500 // el0t_64_sync
)

// irqTask lays out a task interrupted at fnIdle's first instruction, the
// interrupt handled on the IRQ stack:
//
//	IRQ stack: leaf's record → gic's record → (task stack)
//	task stack: call_on_irq_stack's record → el1_interrupt's record →
//	pt_regs{x29 = idle's caller record, pc = fnIdle} → do_idle's record →
//	the final {0, 0} record of the pt_regs at the top.
func irqTask() (words64, []uint64) {
	m := words64{}
	leafRec, gicRec := uint64(irqStack+0x3e00), uint64(irqStack+0x3f00)
	onIRQRec, el1Rec := uint64(task+0x3a00), uint64(task+0x3a40)
	regs := uint64(task + 0x3b00)
	doIdleRec := uint64(task + 0x3e00)
	final := uint64(top - 336 + 304)
	m.record(leafRec, gicRec, fnGIC+0x40)
	m.record(gicRec, onIRQRec, fnOnIRQ+0x24)
	m.record(onIRQRec, el1Rec, fnEl1IRQ+0x30)
	m.record(el1Rec, regs+304, fnVector+0x64)
	m.ptRegs(regs, doIdleRec, fnIdle, regs+336, 0x60000005)
	m.record(doIdleRec, final, fnEl0Sync+0x14c)
	m.record(final, 0, 0)
	return m, arm64Regs(fnLeaf+0x10, leafRec, leafRec-0x20)
}

func irqStacks() []Stack {
	return []Stack{{Name: "task", Low: task, High: top}, {Name: "IRQ", Low: irqStack, High: irqStack + 0x4000}}
}

func arm64Arch(t *testing.T) arch.Arch {
	a, err := arch.ForMachine(elf.EM_AARCH64)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestARM64WalkIRQ walks from the IRQ stack to the task stack, through
// the pt_regs of an exception taken at EL1, to the final record.
func TestARM64WalkIRQ(t *testing.T) {
	m, regs := irqTask()
	frames, err := NewARM64().Walk(regs, false, arm64Task{m, arm64Arch(t), irqStacks()}, 32)
	if !errors.Is(err, ErrCantUnwind) || !IsEnd(err) || !strings.Contains(err.Error(), "final frame record") {
		t.Fatalf("walk ended with %v, want the final record", err)
	}
	regsAt := uint64(task + 0x3b00)
	want := []struct {
		pc, lookup, sp uint64
		trap           bool
	}{
		{fnLeaf + 0x10, fnLeaf + 0x10, irqStack + 0x3e00 - 0x20, false},
		{fnGIC + 0x40, fnGIC + 0x3c, irqStack + 0x3f00, false},
		{fnOnIRQ + 0x24, fnOnIRQ + 0x20, task + 0x3a00, false},
		{fnEl1IRQ + 0x30, fnEl1IRQ + 0x2c, task + 0x3a40, false},
		{fnVector + 0x64, fnVector + 0x60, regsAt, true}, // el1h_64_irq: its record is the pt_regs'
		{fnIdle, fnIdle, regsAt + 336, false},            // interrupted: named at its pc
		{fnEl0Sync + 0x14c, fnEl0Sync + 0x148, top - 336, false},
	}
	if len(frames) != len(want) {
		t.Fatalf("%d frames %+v, want %d", len(frames), frames, len(want))
	}
	for i, w := range want {
		f := frames[i]
		if f.PC != w.pc || f.Lookup != w.lookup || f.SP != w.sp || f.Trap != w.trap {
			t.Errorf("frame %d: pc %#x lookup %#x sp %#x trap %v; want %#x %#x %#x %v", i, f.PC, f.Lookup, f.SP, f.Trap, w.pc, w.lookup, w.sp, w.trap)
		}
		if i+1 < len(frames) && f.CallerSP != frames[i+1].SP {
			t.Errorf("frame %d: CallerSP %#x, next SP %#x", i, f.CallerSP, frames[i+1].SP)
		}
	}
	if last := frames[len(frames)-1]; last.CallerSP != top {
		t.Errorf("last frame's area ends at %#x, want the stack top %#x", last.CallerSP, uint64(top))
	}
	if r := frames[5].Regs; len(r) != 34 || r[0] != 0x1000 || r[28] != 0x1000+28 || r[33] != 0x60000005 {
		t.Errorf("interrupted frame's registers %#x, want the pt_regs", r)
	}
}

// TestARM64WalkChecks: records off the stacks, back on a stack already
// left, below the last one, misaligned, or a return address of 0 end the
// walk with an error naming the address.
func TestARM64WalkChecks(t *testing.T) {
	cases := []struct {
		name  string
		patch func(m words64)
		regs  func(r []uint64)
		want  error
		text  string
	}{
		{name: "back to the IRQ stack", patch: func(m words64) { m.record(task+0x3a40, irqStack+0x3f80, fnVector+0x64) }, want: ErrOffStack, text: "outside the task's stacks"},
		{name: "loop", patch: func(m words64) { m.record(task+0x3a40, task+0x3a00, fnVector+0x64) }, want: ErrOffStack, text: "below 0xffff800080243a50"},
		{name: "off every stack", patch: func(m words64) { m.record(task+0x3a40, 0xffff800090000000, fnVector+0x64) }, want: ErrOffStack, text: "0xffff800090000000"},
		{name: "misaligned", patch: func(m words64) { m.record(task+0x3a40, task+0x3a84, fnVector+0x64) }, want: ErrOffStack, text: "not 8-byte aligned"},
		{name: "no return address", patch: func(m words64) { m.record(task+0x3a40, task+0x3a80, 0); m.record(task+0x3a80, 0, 1) }, want: ErrCantUnwind, text: "return address is 0"},
		{name: "no frame pointer", regs: func(r []uint64) { r[29] = 0 }, want: ErrCantUnwind, text: "x29 is 0"},
		{name: "unreadable record", patch: func(m words64) { delete(m, task+0x3a40) }, text: "frame record at 0xffff800080243a40"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, regs := irqTask()
			if c.patch != nil {
				c.patch(m)
			}
			if c.regs != nil {
				c.regs(regs)
			}
			frames, err := NewARM64().Walk(regs, false, arm64Task{m, arm64Arch(t), irqStacks()}, 32)
			if err == nil || (c.want != nil && !errors.Is(err, c.want)) || !strings.Contains(err.Error(), c.text) {
				t.Errorf("%d frames, err %v; want %v mentioning %q", len(frames), err, c.want, c.text)
			}
			if len(frames) == 0 {
				t.Error("no frames: the ones before the bad record are lost")
			}
		})
	}
}

// TestARM64WalkUnbounded: without a Context (no stacks known) records must
// climb; one that does not ends the walk as a loop.
func TestARM64WalkUnbounded(t *testing.T) {
	m, regs := irqTask()
	frames, err := NewARM64().Walk(regs, false, m, 32)
	// From the IRQ stack (low) to the task stack (high) the records climb,
	// so the same walk succeeds.
	if !IsEnd(err) || len(frames) != 7 {
		t.Errorf("unbounded walk: %d frames, %v", len(frames), err)
	}
	m.record(task+0x3a40, task+0x3a00, fnVector+0x64)
	if _, err := NewARM64().Walk(regs, false, m, 32); !errors.Is(err, ErrLoop) {
		t.Errorf("a record below the last: %v, want ErrLoop", err)
	}
}

// TestARM64WalkSleeping: a task in cpu_switch_to — pc a return address
// into __switch_to, named at the call — and return addresses signed with
// PAC, stripped with the dump's KERNELPACMASK.
func TestARM64WalkSleeping(t *testing.T) {
	info, err := vmcoreinfo.Parse([]byte("NUMBER(KERNELPACMASK)=0xff7f000000000000\n"))
	if err != nil {
		t.Fatal(err)
	}
	a := arch.WithInfo(arm64Arch(t), info)
	const pac = 0x2a00000000000000 // in bits 63:56, clearing them
	m := words64{}
	r0, r1 := uint64(task+0x3d00), uint64(task+0x3d40)
	m.record(r0, r1, (fnDoIdle+0x58)&^pac)
	m.record(r1, top-32, (fnEl0Sync+0x14c)&^0x007f000000000000) // bit 55 is never PAC
	m.record(top-32, 0, 0)
	regs := arm64Regs(fnIdle+0x8c, r0, r0)
	frames, err := NewARM64().Walk(regs, true, arm64Task{m, a, []Stack{{Name: "task", Low: task, High: top}}}, 32)
	if !IsEnd(err) || len(frames) != 3 {
		t.Fatalf("%d frames, %v", len(frames), err)
	}
	if frames[0].Lookup != fnIdle+0x88 || frames[1].PC != fnDoIdle+0x58 || frames[1].Lookup != fnDoIdle+0x54 || frames[2].PC != fnEl0Sync+0x14c {
		t.Errorf("frames %+v: want frame 0 named at its call, PAC bits stripped", frames)
	}
	// Without the mask (the image's untuned arch) the signed address stays.
	frames, _ = NewARM64().Walk(regs, true, m, 32)
	if len(frames) < 2 || frames[1].PC == fnDoIdle+0x58 {
		t.Errorf("untuned arch stripped PAC bits it cannot know: %+v", frames)
	}
}

// TestARM64WalkMeta: 6.13's frame_record_meta — a {0, 0} record whose type
// word (FRAME_META_TYPE_PT_REGS = 2) says a pt_regs is around it — is
// taken from the vmlinux's struct pt_regs layout.
func TestARM64WalkMeta(t *testing.T) {
	a := arm64Arch(t).(arch.LayoutTuner).WithLayout(ptRegsLayout{size: 344, stackframe: 304, typ: 320})
	m := words64{}
	regs, el1Rec := uint64(task+0x3b00), uint64(task+0x3a40)
	final := uint64(top - 344 + 304)
	m.record(el1Rec, regs+304, fnVector+0x64)
	m.ptRegs(regs, final, fnIdle, regs+344, 0x60000005)
	m.record(regs+304, 0, 0)
	m[regs+320] = 2
	m.record(final, 0, 0)
	m[top-344+320] = 1
	frames, err := NewARM64().Walk(arm64Regs(fnEl1IRQ, el1Rec, el1Rec), false, arm64Task{m, a, []Stack{{Name: "task", Low: task, High: top}}}, 32)
	if !IsEnd(err) || len(frames) != 3 || !frames[1].Trap || frames[2].PC != fnIdle || frames[2].Lookup != fnIdle {
		t.Errorf("%d frames %+v, %v", len(frames), frames, err)
	}
}

type ptRegsLayout struct{ size, stackframe, typ int64 }

func (l ptRegsLayout) Size(string) (int64, error) { return l.size, nil }
func (l ptRegsLayout) Offset(_, path string) (int64, error) {
	switch path {
	case "stackframe":
		return l.stackframe, nil
	case "stackframe.type":
		return l.typ, nil
	}
	return 0, errors.New("no member")
}

// TestARM64NotException: a record whose neighbours happen to look like a
// pt_regs but say EL0 is not taken for an exception frame.
func TestARM64NotException(t *testing.T) {
	m, regs := irqTask()
	m[task+0x3b00+33*8] = 0x60000000 // pstate EL0t
	frames, _ := NewARM64().Walk(regs, false, arm64Task{m, arm64Arch(t), irqStacks()}, 32)
	for _, f := range frames {
		if f.Trap {
			t.Errorf("frame at %#x taken for an exception with an EL0 pstate", f.PC)
		}
	}
}

// FuzzARM64Walk unwinds hostile stacks: the walk ends (max frames or an
// error), never panics, and every frame record it used lies on a stack
// it was given.
func FuzzARM64Walk(f *testing.F) {
	m, regs := irqTask()
	var seed []byte
	for a := uint64(task + 0x3a00); a < top; a += 8 {
		seed = fmt.Appendf(seed, "%016x", m[a])
	}
	f.Add(seed, uint64(task+0x3a00), uint64(0))
	f.Add([]byte("ffff8000802430000000000000000000"), uint64(task+0x3000), uint64(0x1234))
	f.Fuzz(func(t *testing.T, hexWords []byte, fp, pacMask uint64) {
		mem := words64{}
		for i := 0; i+16 <= len(hexWords) && i/16 < 0x800; i += 16 {
			var v uint64
			if _, err := fmt.Sscanf(string(hexWords[i:i+16]), "%x", &v); err != nil {
				continue
			}
			mem[task+0x3a00+uint64(i/2)] = v
		}
		info, _ := vmcoreinfo.Parse(fmt.Appendf(nil, "NUMBER(KERNELPACMASK)=0x%x\n", pacMask))
		a := arch.WithInfo(arm64Arch(t), info)
		stacks := []Stack{{Name: "task", Low: task, High: top}}
		frames, _ := NewARM64().Walk(append(regs[:29:29], fp, 0, fp, fnLeaf, 0x5), false, arm64Task{mem, a, stacks}, 64)
		if len(frames) > 64 {
			t.Fatalf("%d frames", len(frames))
		}
		// Every record read — that of each frame but the last — was on the stack.
		for i := 0; i+1 < len(frames); i++ {
			if rec := frames[i].Regs[29]; rec < task || rec+16 > top {
				t.Fatalf("frame %d's record at %#x was read, off the stack", i, rec)
			}
		}
	})
}
