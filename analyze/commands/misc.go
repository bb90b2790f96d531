package commands

import (
	"debug/dwarf"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/kdumpkit/kdumpkit/analyze/escape"
	"github.com/kdumpkit/kdumpkit/analyze/kernel"
	"github.com/kdumpkit/kdumpkit/analyze/types"
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

// structCmd: struct NAME[.member] [-o] [ADDR]
func (s *Session) structCmd(w io.Writer, args []string) error {
	if err := s.needTypes("struct"); err != nil {
		return err
	}
	var name, addrArg string
	offsets := false
	for _, a := range args[1:] {
		switch {
		case a == "-o":
			offsets = true
		case name == "":
			name = a
		default:
			addrArg = a
		}
	}
	if args[0] != "struct" { // "task_struct ADDR" shorthand
		name, addrArg = args[0], ""
		if len(args) > 1 {
			addrArg = args[len(args)-1]
		}
	}
	if name == "" {
		return fmt.Errorf("struct NAME[.member] [-o] [ADDR]: %w", ErrUsage)
	}
	typName, member, _ := strings.Cut(name, ".")
	t, err := s.Kernel.Types.Named("struct " + typName)
	if err != nil {
		if t, err = s.Kernel.Types.Named(typName); err != nil {
			return err
		}
	}
	if addrArg == "" {
		if member != "" {
			m, err := types.MemberOf(t, member)
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "  [%d] %s;\n", m.Offset, types.Decl(m.Type, member))
			return nil
		}
		fmt.Fprint(w, types.Layout(t, offsets))
		return nil
	}
	addr, err := s.parseAddr(addrArg)
	if err != nil {
		return err
	}
	return s.structAt(w, t, name, member, addr)
}

// structAt prints the struct t (or one member path of it) at addr.
func (s *Session) structAt(w io.Writer, t dwarf.Type, name, member string, addr uint64) error {
	var show dwarf.Type = t
	if member != "" {
		m, err := types.MemberOf(t, member)
		if err != nil {
			return err
		}
		addr += uint64(m.Offset)
		show = m.Type
	}
	size := show.Size()
	if size <= 0 || size > 1<<20 {
		return fmt.Errorf("struct: %s has no printable size (%d)", name, size)
	}
	buf := make([]byte, size)
	if err := s.Kernel.Mem.ReadVirt(addr, buf); err != nil {
		return fmt.Errorf("struct %s at %#x: %w", name, addr, err)
	}
	val := types.FormatValue(show, buf, s.Kernel.Order)
	if member != "" {
		fmt.Fprintf(w, "  %s = %s,\n", member[strings.LastIndex(member, ".")+1:], val)
		return nil
	}
	fmt.Fprintf(w, "%s %s\n", types.Decl(t, ""), val)
	return nil
}

func (s *Session) whatis(w io.Writer, args []string) error {
	if len(args) != 2 {
		return fmt.Errorf("whatis SYMBOL|TYPE: %w", ErrUsage)
	}
	if err := s.needTypes("whatis"); err != nil {
		return err
	}
	name := args[1]
	ty := s.Kernel.Types
	if v, err := ty.Variable(name); err == nil {
		fmt.Fprintf(w, "%s;\n", types.Decl(v, name))
		return nil
	}
	if f, err := ty.Function(name); err == nil {
		fmt.Fprintf(w, "%s;\n", types.Decl(f, name))
		return nil
	}
	t, err := ty.Named(name)
	if err != nil {
		return fmt.Errorf("whatis: %w", err)
	}
	switch types.Strip(t).(type) {
	case *dwarf.StructType, *dwarf.EnumType:
		fmt.Fprint(w, types.Layout(t, false))
	default:
		fmt.Fprintf(w, "type = %s\n", types.Decl(types.Strip(t), ""))
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
	if len(args) != 2 {
		return fmt.Errorf("sym ADDR|NAME | -q STRING: %w", ErrUsage)
	}
	if sy, err := s.Kernel.Syms.Lookup(args[1]); err == nil {
		fmt.Fprintf(w, "%x (%c) %s\n", sy.Addr, sy.Letter(), escape.Text(sy.Name))
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
	if off == 0 {
		fmt.Fprintf(w, "%x (%c) %s\n", a, sy.Letter(), escape.Text(sy.Name))
	} else {
		fmt.Fprintf(w, "%x (%c) %s+%d\n", a, sy.Letter(), escape.Text(sy.Name), off)
	}
	return nil
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
