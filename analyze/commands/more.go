package commands

import (
	"fmt"
	"io"
	"strings"
)

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
