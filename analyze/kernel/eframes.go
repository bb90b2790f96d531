package kernel

import (
	"fmt"

	"github.com/kdumpkit/kdumpkit/analyze/arch"
)

// ExceptionFrame is a struct pt_regs found on a kernel stack.
type ExceptionFrame struct {
	Addr uint64
	User bool     // saved on entry from user mode
	Regs []uint64 // in the arch's RegisterSet order
}

// ExceptionFrames searches a task's whole kernel stack for exception
// frames (crash's bt -e): at every word, the registers a pt_regs there
// would hold are tested with the arch's EframeSearch. It needs no
// unwinding, so it finds the frames of an interrupt or fault an unwinder
// could not get past, and of code the stack still holds from before.
func (k *Kernel) ExceptionFrames(t Task) ([]ExceptionFrame, error) {
	fr, set, err := k.frames()
	if err != nil {
		return nil, err
	}
	es, ok := k.Arch.(arch.EframeSearch)
	if !ok {
		return nil, fmt.Errorf("exception frame search: %w: %s", ErrNoFrames, k.Arch.Name())
	}
	size := k.threadSize(fr)
	if t.Stack == 0 {
		return nil, fmt.Errorf("PID %d: no kernel stack", t.PID)
	}
	stack := make([]byte, size)
	if err := k.Mem.ReadVirt(t.Stack, stack); err != nil {
		return nil, fmt.Errorf("PID %d: stack %#x: %w", t.PID, t.Stack, err)
	}
	userTop, err := k.KernelVirtualBase()
	if err != nil {
		return nil, err
	}
	text := k.IsText
	n, ps := len(set.Names), k.PtrSize
	var out []ExceptionFrame
	regs := make([]uint64, n)
	for off := 0; off+n*ps <= len(stack); off += ps {
		for i := range regs {
			regs[i] = k.Uint(stack[off+i*ps:], ps)
		}
		addr := t.Stack + uint64(off)
		if ok, user := es.PtRegsAt(regs, addr, t.Stack, t.Stack+size, text, userTop); ok {
			out = append(out, ExceptionFrame{Addr: addr, User: user, Regs: append([]uint64(nil), regs...)})
		}
	}
	return out, nil
}

// IsText reports whether addr is in the kernel's text, [_stext, _etext)
// or [_sinittext, _einittext).
func (k *Kernel) IsText(addr uint64) bool {
	for _, r := range [][2]string{{"_stext", "_etext"}, {"_sinittext", "_einittext"}} {
		lo, err1 := k.Syms.Addr(r[0])
		hi, err2 := k.Syms.Addr(r[1])
		if err1 == nil && err2 == nil && addr >= lo && addr < hi {
			return true
		}
	}
	return false
}
