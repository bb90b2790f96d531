package commands

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/kdumpkit/kdumpkit/analyze/escape"
	"github.com/kdumpkit/kdumpkit/analyze/kernel"
)

// BTFrame is one backtrace frame.
type BTFrame struct {
	N        int    `json:"n"`
	SP       Addr   `json:"sp"`
	PC       Addr   `json:"pc"`
	Function string `json:"function"`
	Offset   uint64 `json:"offset"`
	// Regs are the exception-frame registers printed after this frame
	// (r0–r15, cpsr), if any.
	Regs []uint64 `json:"regs,omitempty"`
	// Words is the frame's stack content for bt -f.
	Words []uint32 `json:"words,omitempty"`
}

// BT is one task's backtrace.
type BT struct {
	PID     int       `json:"pid"`
	Task    Addr      `json:"task"`
	CPU     int       `json:"cpu"`
	Command string    `json:"command"`
	Start   string    `json:"registers_from"`
	Frames  []BTFrame `json:"frames"`
	Stop    string    `json:"stopped,omitempty"`
}

// Backtrace unwinds one task; full adds each frame's stack words.
func (s *Session) Backtrace(t kernel.Task, full bool) (BT, error) {
	out := BT{PID: t.PID, Task: Addr(t.Addr), CPU: t.CPU, Command: t.Comm}
	if s.Unwind == nil {
		return out, fmt.Errorf("bt: no unwinder for %s images", s.Machine)
	}
	bt, err := s.Kernel.Backtrace(t, s.Unwind)
	if err != nil {
		return out, fmt.Errorf("bt: PID %d: %w", t.PID, err)
	}
	out.Start = bt.Start
	for i, f := range bt.Frames {
		fr := BTFrame{N: i, SP: Addr(f.SP), PC: Addr(f.PC)}
		if sym, _, err := s.Kernel.Syms.At(uint64(f.Lookup)); err == nil {
			fr.Function, fr.Offset = sym.Name, uint64(f.PC)-sym.Addr
		} else {
			fr.Function = fmt.Sprintf("%#x", f.PC)
		}
		if i == 0 && bt.Start == "NT_PRSTATUS" {
			fr.Regs = s.prstatusRegs(t)
		}
		if i == len(bt.Frames)-1 && bt.UserRegs != nil {
			fr.Regs = bt.UserRegs[:17]
		}
		if isSVCEntry(fr.Function) {
			// svc_entry (arch/arm/kernel/entry-armv.S, 6.1) built pt_regs
			// at the frame's sp; its ".save {r0 - pc}" is how we got past.
			if ws := s.stackWords(f.SP, f.SP+17*4); len(ws) == 17 {
				fr.Regs = make([]uint64, 17)
				for i, w := range ws {
					fr.Regs[i] = uint64(w)
				}
			}
		}
		if full && f.CallerSP > f.SP && f.CallerSP-f.SP <= 4096 {
			fr.Words = s.stackWords(f.SP, f.CallerSP)
		}
		out.Frames = append(out.Frames, fr)
	}
	if bt.Stop != nil {
		out.Stop = bt.Stop.Error()
	}
	return out, nil
}

// isSVCEntry reports whether fn is one of the ARM exception entries that
// save a full pt_regs on the kernel stack (__irq_svc, __dabt_svc, ...).
func isSVCEntry(fn string) bool {
	switch fn {
	case "__irq_svc", "__dabt_svc", "__pabt_svc", "__und_svc", "__fiq_svc", "__fiq_abt":
		return true
	}
	return false
}

func (s *Session) prstatusRegs(t kernel.Task) []uint64 {
	c, ok := s.Kernel.CPUOf(t)
	if !ok || len(c.Regs) < 17 {
		return nil
	}
	return c.Regs[:17]
}

func (s *Session) stackWords(from, to uint64) []uint32 {
	var ws []uint32
	for a := from; a < to; a += 4 {
		v, err := s.Kernel.ReadUint(a, 4)
		if err != nil {
			break
		}
		ws = append(ws, uint32(v))
	}
	return ws
}

func (s *Session) bt(w io.Writer, args []string) error {
	var all, full bool
	var sel []string
	for _, a := range args[1:] {
		switch a {
		case "-a":
			all = true
		case "-f":
			full = true
		default:
			if strings.HasPrefix(a, "-") {
				return fmt.Errorf("bt: option %s not supported: %w", a, ErrUsage)
			}
			sel = append(sel, a)
		}
	}
	targets, err := s.btTargets(all, sel)
	if err != nil {
		return err
	}
	var bts []BT
	var errs []error
	for _, t := range targets {
		b, err := s.Backtrace(t, full)
		if err != nil {
			errs = append(errs, err)
		}
		bts = append(bts, b)
	}
	if s.JSON {
		if err := writeJSON(w, bts); err != nil {
			return err
		}
		return errors.Join(errs...)
	}
	for i, b := range bts {
		if i > 0 {
			fmt.Fprintln(w)
		}
		writeBT(w, b)
	}
	return errors.Join(errs...)
}

// btTargets resolves bt's task arguments: -a, PIDs or task addresses, or
// the current context.
func (s *Session) btTargets(all bool, sel []string) ([]kernel.Task, error) {
	var targets []kernel.Task
	switch {
	case all:
		act := s.Kernel.ActiveTasks()
		cpus := make([]int, 0, len(act))
		for c := range act {
			cpus = append(cpus, c)
		}
		sort.Ints(cpus)
		for _, c := range cpus {
			t, err := s.Kernel.TaskByAddr(act[c])
			if err != nil {
				return nil, err
			}
			targets = append(targets, t)
		}
	case len(sel) > 0:
		for _, a := range sel {
			t, err := s.lookupTask(a)
			if err != nil {
				return nil, err
			}
			targets = append(targets, t)
		}
	default:
		t, err := s.Current()
		if err != nil {
			return nil, err
		}
		targets = []kernel.Task{t}
	}
	return targets, nil
}

func writeBT(w io.Writer, b BT) {
	fmt.Fprintf(w, "PID: %-6d TASK: %x  CPU: %-2d  COMMAND: %q\n", b.PID, b.Task, b.CPU, b.Command)
	if b.Start == "cpu_context" {
		fmt.Fprintln(w, "    (registers from the task's saved cpu_context: not the crash registers)")
	}
	for _, f := range b.Frames {
		fmt.Fprintf(w, "%3s [%08x] %s at %08x\n", "#"+strconv.Itoa(f.N), f.SP, escape.Text(f.Function), f.PC)
		if len(f.Words) > 0 {
			for i := 0; i < len(f.Words); i += 4 {
				fmt.Fprintf(w, "    %08x:", uint64(f.SP)+uint64(4*i))
				for _, v := range f.Words[i:min(i+4, len(f.Words))] {
					fmt.Fprintf(w, " %08x", v)
				}
				fmt.Fprintln(w)
			}
		}
		if len(f.Regs) >= 17 {
			writeARMRegs(w, f.Regs)
		}
	}
	if b.Stop != "" {
		fmt.Fprintf(w, "    (unwinding stopped: %s)\n", escape.Text(b.Stop))
	}
}

// writeARMRegs prints registers in the kernel's __show_regs layout
// (arch/arm/kernel/process.c), which crash's ARM bt also uses.
func writeARMRegs(w io.Writer, r []uint64) {
	fmt.Fprintf(w, "    pc : [<%08x>]    lr : [<%08x>]    psr: %08x\n", r[15], r[14], r[16])
	fmt.Fprintf(w, "    sp : %08x  ip : %08x  fp : %08x\n", r[13], r[12], r[11])
	fmt.Fprintf(w, "    r10: %08x  r9 : %08x  r8 : %08x\n", r[10], r[9], r[8])
	fmt.Fprintf(w, "    r7 : %08x  r6 : %08x  r5 : %08x  r4 : %08x\n", r[7], r[6], r[5], r[4])
	fmt.Fprintf(w, "    r3 : %08x  r2 : %08x  r1 : %08x  r0 : %08x\n", r[3], r[2], r[1], r[0])
	fmt.Fprintf(w, "    Flags: %s  IRQs %s  FIQs %s  Mode %s  ISA %s\n",
		cpsrFlags(uint32(r[16])), onOff(r[16]&0x80 == 0), onOff(r[16]&0x40 == 0), armMode(uint32(r[16])), isa(uint32(r[16])))
}

func cpsrFlags(c uint32) string {
	f := []byte("nzcv")
	for i, bit := range []uint32{31, 30, 29, 28} {
		if c&(1<<bit) != 0 {
			f[i] -= 'a' - 'A'
		}
	}
	return string(f)
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func armMode(c uint32) string {
	switch c & 0x1f {
	case 0x10:
		return "USER_32"
	case 0x11:
		return "FIQ_32"
	case 0x12:
		return "IRQ_32"
	case 0x13:
		return "SVC_32"
	case 0x17:
		return "ABT_32"
	case 0x1b:
		return "UND_32"
	case 0x1f:
		return "SYSTEM_32"
	}
	return fmt.Sprintf("%#x", c&0x1f)
}

func isa(c uint32) string {
	if c&(1<<5) != 0 {
		return "Thumb"
	}
	return "ARM"
}
