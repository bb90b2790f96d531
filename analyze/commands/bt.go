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
	// WordNames is bt -F's name for each word: "symbol+offset" for one
	// inside a kernel symbol, "[cache]" for one inside a slab object
	// ("[address:cache]" with -FF), "" for the rest.
	WordNames []string `json:"word_names,omitempty"`
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
	return s.backtrace(t, full, 0)
}

// backtrace is Backtrace; named is bt -F's level: 1 names the stack
// words (symbols and slab caches), 2 adds a slab object's address.
func (s *Session) backtrace(t kernel.Task, full bool, named int) (BT, error) {
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
			if named > 0 {
				fr.WordNames = make([]string, len(fr.Words))
				for i, v := range fr.Words {
					fr.WordNames[i] = s.wordName(v, named > 1)
				}
			}
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

// wordName is bt -F's name for a stack word: the kernel symbol it is
// in, else the slab cache of the object it points into ("[cache]",
// crash's -F; "[address:cache]" with the object's address, -FF), else "".
func (s *Session) wordName(v uint64, object bool) string {
	if name := s.symbolAt(v); name != "" {
		return escape.Text(name)
	}
	if v < 4096 || s.Kernel.Types == nil {
		return ""
	}
	o, err := s.Kernel.SlabObjectAt(v)
	switch {
	case err != nil:
		return ""
	case object:
		return fmt.Sprintf("[%x:%s]", o.Object, escape.Text(o.Cache))
	}
	return "[" + escape.Text(o.Cache) + "]"
}

func (s *Session) bt(w io.Writer, args []string) error {
	var all, full, withLines, textOnly, eframes, raw bool
	named := 0
	var sel []string
	for _, a := range args[1:] {
		switch a {
		case "-a":
			all = true
		case "-f":
			full = true
		case "-F":
			full, named = true, max(named, 1)
		case "-FF":
			full, named = true, 2
		case "-e":
			eframes = true
		case "-r":
			raw = true
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
	// -t, -e and -r read the stack without unwinding it.
	var each func(io.Writer, kernel.Task) error
	switch {
	case textOnly:
		each = s.textOnStack
	case eframes:
		each = s.eframesOnStack
	case raw:
		each = s.rawStack
	}
	if each != nil {
		for i, t := range targets {
			if i > 0 {
				fmt.Fprintln(w)
			}
			if err := each(w, t); err != nil {
				return err
			}
		}
		return nil
	}
	var bts []BT
	var errs []error
	for _, t := range targets {
		b, err := s.backtrace(t, full, named)
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

// eframesOnStack is bt -e: the exception frames (struct pt_regs) found
// anywhere on the task's kernel stack, in the shape of crash's arm64
// port: "KERNEL-MODE EXCEPTION FRAME AT: addr" or USER-MODE, then the
// registers as bt prints them; nothing when there are none.
func (s *Session) eframesOnStack(w io.Writer, t kernel.Task) error {
	fmt.Fprintln(w, taskHeader(t))
	frames, err := s.Kernel.ExceptionFrames(t)
	if err != nil {
		return fmt.Errorf("bt -e: PID %d: %w", t.PID, err)
	}
	show := s.showRegs()
	for _, f := range frames {
		mode := "KERNEL"
		if f.User {
			mode = "USER"
		}
		fmt.Fprintf(w, "\n%s-MODE EXCEPTION FRAME AT: %x\n", mode, f.Addr)
		if show != nil {
			for _, l := range show(f.Regs) {
				fmt.Fprintln(w, "    "+l)
			}
		}
	}
	return nil
}

// rawStack is bt -r: the task's whole kernel stack, from its lowest
// address, as rd -s prints memory (words inside a symbol by name).
func (s *Session) rawStack(w io.Writer, t kernel.Task) error {
	fmt.Fprintln(w, taskHeader(t))
	size := s.Kernel.StackSize()
	if t.Stack == 0 || size == 0 {
		return fmt.Errorf("bt -r: PID %d: no kernel stack", t.PID)
	}
	return s.rd(w, []string{"rd", "-s", fmt.Sprintf("%x", t.Stack), fmt.Sprint(size / uint64(s.Kernel.PtrSize))})
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
			for j, v := range f.Words[i:min(i+4, len(f.Words))] {
				if i+j < len(f.WordNames) && f.WordNames[i+j] != "" {
					fmt.Fprintf(w, " %s", f.WordNames[i+j])
					continue
				}
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
