package arch

import "testing"

// TestARMPtRegsAt: a frame saved in SVC mode (pc and lr in text, sp on
// the stack) and the user frame at task_pt_regs are found; changing any
// one of the checked words makes the same words no frame.
func TestARMPtRegsAt(t *testing.T) {
	a := arm{}
	const lo, hi = 0xa0000000, 0xa0002000
	text := func(pc uint64) bool { return pc >= 0x80100000 && pc < 0x80900000 }
	svc := func() []uint64 {
		r := make([]uint64, 18)
		r[13], r[14], r[15], r[16], r[17] = 0xa0001e00+72+8, 0x80200100, 0x80200010, 0x60000013, 0xffffffff
		return r
	}
	if ok, user := a.PtRegsAt(svc(), 0xa0001e00, lo, hi, text, 0x80000000); !ok || user {
		t.Errorf("svc frame: ok %v user %v", ok, user)
	}
	for i, mutate := range []func(r []uint64){
		func(r []uint64) { r[14] = 0x10000 },    // lr outside text
		func(r []uint64) { r[15] = 0x10000 },    // pc outside text
		func(r []uint64) { r[13] = 0xa0002000 }, // sp off the stack
		func(r []uint64) { r[16] = 0x60100013 }, // a reserved cpsr bit
		func(r []uint64) { r[16] = 0x60000012 }, // IRQ mode
	} {
		r := svc()
		mutate(r)
		if ok, _ := a.PtRegsAt(r, 0xa0001e00, lo, hi, text, 0x80000000); ok {
			t.Errorf("mutation %d still a frame: %x", i, r)
		}
	}
	usr := make([]uint64, 18)
	usr[13], usr[15], usr[16] = 0x7eff0000, 0x10000, 0x60000010
	top := a.UserRegs(lo, hi-lo)
	if ok, user := a.PtRegsAt(usr, top, lo, hi, text, 0x80000000); !ok || !user {
		t.Errorf("user frame at %x: ok %v user %v", top, ok, user)
	}
	if ok, _ := a.PtRegsAt(usr, top-8, lo, hi, text, 0x80000000); ok {
		t.Errorf("user frame below task_pt_regs accepted")
	}
}
