package commands

import (
	"fmt"
	"io"
	"strings"

	"github.com/kdumpkit/kdumpkit/analyze/types"
)

// p VARIABLE: print a kernel variable as gdb does ("jiffies = 4294937490").
func (s *Session) print(w io.Writer, args []string) error {
	if len(args) != 2 {
		return fmt.Errorf("p VARIABLE: %w", ErrUsage)
	}
	if err := s.needTypes("p"); err != nil {
		return err
	}
	name := args[1]
	t, err := s.Kernel.Types.Variable(name)
	if err != nil {
		return fmt.Errorf("p: %w", err)
	}
	addr, err := s.Kernel.Syms.Addr(name)
	if err != nil {
		return fmt.Errorf("p: %w", err)
	}
	size := t.Size()
	if size <= 0 || size > 1<<20 {
		return fmt.Errorf("p: %s has no printable size (%d)", name, size)
	}
	buf := make([]byte, size)
	if err := s.Kernel.Mem.ReadVirt(addr, buf); err != nil {
		return fmt.Errorf("p %s at %#x: %w", name, addr, err)
	}
	fmt.Fprintf(w, "%s = %s\n", name, types.FormatValue(t, buf, s.Kernel.Order))
	return nil
}

// task [PID|TASK]: the task_struct of the context (or given) task.
func (s *Session) task(w io.Writer, args []string) error {
	t, err := s.Current()
	if len(args) == 2 {
		t, err = s.lookupTask(args[1])
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(w, taskHeader(t))
	return s.structCmd(w, []string{"struct", "task_struct", fmt.Sprintf("%x", t.Addr)})
}

// foreach bt [-f]: every task's backtrace.
func (s *Session) foreach(w io.Writer, args []string) error {
	if len(args) < 2 || args[1] != "bt" {
		return fmt.Errorf("foreach bt [-f]: only bt is supported: %w", ErrUsage)
	}
	tasks, warns := s.Kernel.Tasks()
	for _, e := range warns {
		s.warn(w, e)
	}
	for i, t := range tasks {
		if i > 0 {
			fmt.Fprintln(w)
		}
		b, err := s.Backtrace(t, len(args) > 2 && strings.Contains(strings.Join(args[2:], " "), "-f"))
		if err != nil {
			fmt.Fprintf(w, "%s\n    (%v)\n", taskHeader(t), err)
			continue
		}
		writeBT(w, b, s.showRegs())
	}
	return nil
}
