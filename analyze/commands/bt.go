package commands

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/kdumpkit/kdumpkit/analyze/arch"
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
	// Regs are the registers saved at this frame, printed after it: the
	// crash registers, an exception frame's or the user ones, in the
	// arch's pt_regs order (ARM: r0–r15, cpsr).
	Regs []uint64 `json:"regs,omitempty"`
	// Words is the frame's stack content for bt -f, one pointer-sized
	// word each.
	Words []uint64 `json:"words,omitempty"`
	// Source is the frame's "file: line" for bt -l.
	Source string `json:"source,omitempty"`
	// lookup is the address the frame is named by (a caller's call
	// site, not its return address).
	lookup uint64
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
	// wordSize is the dump's pointer size, for printing.
	wordSize int
}

// Backtrace unwinds one task; full adds each frame's stack words.
func (s *Session) Backtrace(t kernel.Task, full bool) (BT, error) {
	out := BT{PID: t.PID, Task: Addr(t.Addr), CPU: t.CPU, Command: t.Comm, wordSize: s.Kernel.PtrSize}
	if s.Unwind == nil {
		return out, fmt.Errorf("bt: no unwinder for %s images", s.Machine)
	}
	bt, err := s.Kernel.Backtrace(t, s.Unwind)
	if err != nil {
		return out, fmt.Errorf("bt: PID %d: %w", t.PID, err)
	}
	out.Start = bt.Start
	for i, f := range bt.Frames {
		fr := BTFrame{N: i, SP: Addr(f.SP), PC: Addr(f.PC), Regs: bt.Saved[i], lookup: f.Lookup}
		if sym, _, err := s.Kernel.Syms.At(f.Lookup); err == nil {
			fr.Function, fr.Offset = sym.Name, f.PC-sym.Addr
		} else {
			fr.Function = fmt.Sprintf("%#x", f.PC)
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

// stackWords reads the pointer-sized words of [from, to) up to the
// first unreadable one.
func (s *Session) stackWords(from, to uint64) []uint64 {
	var ws []uint64
	size := uint64(s.Kernel.PtrSize)
	for a := from; a < to; a += size {
		v, err := s.Kernel.ReadUint(a, int(size))
		if err != nil {
			break
		}
		ws = append(ws, v)
	}
	return ws
}

// showRegs is the arch's show_regs, nil when it has none.
func (s *Session) showRegs() func([]uint64) []string {
	if f, ok := s.Kernel.Arch.(arch.Frames); ok {
		return func(r []uint64) []string { return f.ShowRegs(r, s.codeName) }
	}
	return nil
}

// codeName names a code address "symbol+offset", the offset in decimal
// as crash prints it in a register dump; "" when no symbol covers it.
func (s *Session) codeName(addr uint64) string {
	sym, off, err := s.Kernel.Syms.At(addr)
	switch {
	case err != nil:
		return ""
	case off == 0:
		return sym.Name
	}
	return fmt.Sprintf("%s+%d", sym.Name, off)
}

func (s *Session) bt(w io.Writer, args []string) error {
	var all, full, withLines, textOnly bool
	var sel []string
	for _, a := range args[1:] {
		switch a {
		case "-a":
			all = true
		case "-f":
			full = true
		case "-l":
			withLines = true
		case "-t":
			textOnly = true
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
	if textOnly {
		for i, t := range targets {
			if i > 0 {
				fmt.Fprintln(w)
			}
			if err := s.textOnStack(w, t); err != nil {
				return err
			}
		}
		return nil
	}
	var bts []BT
	var errs []error
	for _, t := range targets {
		b, err := s.Backtrace(t, full)
		if err != nil {
			errs = append(errs, err)
		}
		if withLines {
			s.addSources(&b)
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
		writeBT(w, b, s.showRegs())
	}
	return errors.Join(errs...)
}

// textOnStack is bt -t: every word of the task's kernel stack, from the
// first frame's sp to the stack's top, that is an address in kernel
// text, "[where] symbol at value", after crash's START line (the first
// frame's function and pc). It needs no unwinding, so it shows what an
// unwinder that stops early leaves out.
func (s *Session) textOnStack(w io.Writer, t kernel.Task) error {
	fmt.Fprintln(w, taskHeader(t))
	b, err := s.Backtrace(t, false)
	if err != nil || len(b.Frames) == 0 {
		return fmt.Errorf("bt -t: PID %d: no first frame: %v", t.PID, err)
	}
	f0 := b.Frames[0]
	fmt.Fprintf(w, "      START: %s at %x\n", escape.Text(f0.Function), uint64(f0.PC))
	size := s.Kernel.StackSize()
	if t.Stack == 0 || size == 0 || uint64(f0.SP) < t.Stack || uint64(f0.SP) >= t.Stack+size {
		return fmt.Errorf("bt -t: PID %d: sp %#x is not on its stack %#x", t.PID, uint64(f0.SP), t.Stack)
	}
	words := s.stackWords(uint64(f0.SP), t.Stack+size)
	for i, v := range words {
		sym, off, err := s.Kernel.Syms.At(v)
		if err != nil || sym.Letter()|0x20 != 't' && sym.Letter()|0x20 != 'w' || (sym.Size > 0 && off >= sym.Size) {
			continue
		}
		fmt.Fprintf(w, "  [%x] %s at %x\n", uint64(f0.SP)+uint64(i*s.Kernel.PtrSize), escape.Text(sym.Name), v)
	}
	return nil
}

// addSources fills each frame's Source from the line tables (bt -l): the
// line of the call site, inlined code's own line where the call was
// inlined, as crash prints it.
func (s *Session) addSources(b *BT) {
	if s.Lines == nil {
		return
	}
	for i := range b.Frames {
		if l, err := s.Lines.At(b.Frames[i].lookup); err == nil {
			b.Frames[i].Source = l.String()
		}
	}
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

// writeBT prints a backtrace in crash's layout; show formats saved
// registers (nil leaves them out).
func writeBT(w io.Writer, b BT, show func([]uint64) []string) {
	fmt.Fprintln(w, taskHeader(kernel.Task{PID: b.PID, Addr: uint64(b.Task), CPU: b.CPU, Comm: b.Command}))
	switch b.Start {
	case "cpu_context":
		fmt.Fprintln(w, "    (registers from the task's saved cpu_context: not the crash registers)")
	case "IRQ stack":
		fmt.Fprintln(w, "    (stopped by the crash IPI: its frames from the IRQ stack; the CPU's note is the exception frame)")
	}
	digits := 2 * max(b.wordSize, 4)
	for _, f := range b.Frames {
		fmt.Fprintf(w, "%3s [%08x] %s at %08x\n", "#"+strconv.Itoa(f.N), f.SP, escape.Text(f.Function), f.PC)
		if f.Source != "" {
			fmt.Fprintf(w, "    %s\n", escape.Text(f.Source))
		}
		for i := 0; i < len(f.Words); i += 4 {
			fmt.Fprintf(w, "    %0*x:", digits, uint64(f.SP)+uint64(i*digits/2))
			for _, v := range f.Words[i:min(i+4, len(f.Words))] {
				fmt.Fprintf(w, " %0*x", digits, v)
			}
			fmt.Fprintln(w)
		}
		if len(f.Regs) > 0 && show != nil {
			for _, l := range show(f.Regs) {
				fmt.Fprintln(w, "    "+l)
			}
		}
	}
	if b.Stop != "" {
		fmt.Fprintf(w, "    (unwinding stopped: %s)\n", escape.Text(b.Stop))
	}
}
