package commands

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/kdumpkit/kdumpkit/analyze/escape"
	"github.com/kdumpkit/kdumpkit/analyze/kernel"
)

func (s *Session) set(w io.Writer, args []string) error {
	var t kernel.Task
	var err error
	switch {
	case len(args) == 1:
		t, err = s.Current()
	case args[1] == "-p":
		var p kernel.Panic
		if p, err = s.Kernel.PanicTask(); err == nil {
			t = p.Task
		}
	case args[1] == "-c" && len(args) == 3:
		cpu, cerr := strconv.Atoi(args[2])
		if cerr != nil {
			return fmt.Errorf("set -c: bad cpu %q: %w", args[2], ErrUsage)
		}
		var a uint64
		if a, err = s.Kernel.ActiveTask(cpu); err == nil {
			t, err = s.Kernel.TaskByAddr(a)
		}
	case args[1] == "scroll":
		return s.setScroll(w, args[2:])
	case len(args) == 2:
		t, err = s.lookupTask(args[1])
	default:
		return fmt.Errorf("set [pid | taskp | -c cpu | -p]: %w", ErrUsage)
	}
	if err != nil {
		return fmt.Errorf("set: %w", err)
	}
	s.current = &t
	state := t.StateLong()
	if p, err := s.Kernel.PanicTask(); err == nil && p.Task.Addr == t.Addr {
		state += " (PANIC)"
	} else {
		for _, a := range s.Kernel.ActiveTasks() {
			if a == t.Addr {
				state += " (ACTIVE)"
			}
		}
	}
	fmt.Fprintf(w, "    PID: %d\nCOMMAND: %q\n   TASK: %x\n    CPU: %d\n  STATE: %s\n", t.PID, t.Comm, t.Addr, t.CPU, state)
	return nil
}

func (s *Session) needTypes(cmd string) error {
	if s.Kernel.Types == nil {
		return fmt.Errorf("%s: %w", cmd, kernel.ErrNoTypes)
	}
	return nil
}

func (s *Session) sym(w io.Writer, args []string) error {
	if len(args) == 3 && args[1] == "-q" {
		for _, sy := range s.Kernel.Syms.Search(args[2]) {
			fmt.Fprintf(w, "%x (%c) %s\n", sy.Addr, sy.Letter(), escape.Text(sy.Name))
		}
		return nil
	}
	if len(args) == 2 && args[1] == "-l" {
		for _, sy := range s.Kernel.Syms.All() {
			fmt.Fprintf(w, "%x (%c) %s\n", sy.Addr, sy.Letter(), escape.Text(sy.Name))
		}
		return nil
	}
	if len(args) == 3 && args[1] == "-m" {
		return s.symModule(w, args[2])
	}
	if len(args) != 2 {
		return fmt.Errorf("sym ADDR|NAME | -l | -q STRING | -m MODULE: %w", ErrUsage)
	}
	if sy, err := s.Kernel.Syms.Lookup(args[1]); err == nil {
		fmt.Fprintf(w, "%x (%c) %s%s\n", sy.Addr, sy.Letter(), escape.Text(sy.Name), s.sourceOf(sy.Addr, sy.Letter()))
		return nil
	}
	a, err := s.parseAddr(args[1])
	if err != nil {
		return err
	}
	sy, off, err := s.Kernel.Syms.At(a)
	if err != nil {
		return fmt.Errorf("sym: %w", err)
	}
	name := escape.Text(sy.Name)
	if off != 0 {
		name += fmt.Sprintf("+%d", off)
	}
	fmt.Fprintf(w, "%x (%c) %s%s\n", a, sy.Letter(), name, s.sourceOf(a, sy.Letter()))
	return nil
}

// symModule is sym -m: a loaded module's symbols from its kallsyms, by
// address, between crash's MODULE START and MODULE END lines (the
// module's core base and end).
func (s *Session) symModule(w io.Writer, name string) error {
	if err := s.needTypes("sym -m"); err != nil {
		return err
	}
	mods, err := s.Kernel.Modules()
	if err != nil {
		return fmt.Errorf("sym -m: %w", err)
	}
	for _, m := range mods {
		if m.Name != name {
			continue
		}
		syms, err := s.Kernel.ModuleSymbols(m)
		fmt.Fprintf(w, "%x MODULE START: %s\n", m.Base, escape.Text(m.Name))
		for _, sy := range syms {
			fmt.Fprintf(w, "%x (%c) %s\n", sy.Addr, sy.Type, escape.Text(sy.Name))
		}
		fmt.Fprintf(w, "%x MODULE END: %s\n", m.Base+m.Size, escape.Text(m.Name))
		if err != nil {
			return fmt.Errorf("sym -m: %w", err)
		}
		return nil
	}
	if len(mods) == 0 {
		return fmt.Errorf("sym -m: no module %s loaded (no modules installed)", name)
	}
	return fmt.Errorf("sym -m: no module %s loaded", name)
}

// sourceOf is " FILE: LINE" for a code address, as crash's sym adds it
// after a text symbol; "" for data or without line tables.
func (s *Session) sourceOf(addr uint64, letter byte) string {
	if s.Lines == nil || (letter|0x20 != 't' && letter|0x20 != 'w') {
		return ""
	}
	l, err := s.Lines.At(addr)
	if err != nil {
		return ""
	}
	return " " + escape.Text(l.String())
}

// parseAddr takes hex (with or without 0x, as crash does) or a symbol name.
func (s *Session) parseAddr(arg string) (uint64, error) {
	if a, err := strconv.ParseUint(strings.TrimPrefix(arg, "0x"), 16, 64); err == nil {
		return a, nil
	}
	if a, err := s.Kernel.Syms.Addr(arg); err == nil {
		return a, nil
	}
	return 0, fmt.Errorf("invalid address or symbol: %s", arg)
}
