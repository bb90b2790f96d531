package commands

import (
	"fmt"
	"io"
	"strings"

	"github.com/kdumpkit/kdumpkit/analyze/kernel"
)

// task [PID|TASK]: the task_struct of the context (or given) task.
func (s *Session) task(w io.Writer, args []string) error {
	var members []string
	var sel []string
	for i := 1; i < len(args); i++ {
		switch a := args[i]; {
		case a == "-R" && i+1 < len(args):
			i++
			members = append(members, strings.Split(args[i], ",")...)
		case strings.HasPrefix(a, "-R") && len(a) > 2:
			members = append(members, strings.Split(a[2:], ",")...)
		case strings.HasPrefix(a, "-"):
			return fmt.Errorf("task [-R member[,member]] [pid | taskp]...: option %s not supported: %w", a, ErrUsage)
		default:
			sel = append(sel, a)
		}
	}
	var tasks []kernel.Task
	if len(sel) == 0 {
		t, err := s.Current()
		if err != nil {
			return err
		}
		tasks = append(tasks, t)
	}
	for _, a := range sel {
		t, err := s.lookupTask(a)
		if err != nil {
			return fmt.Errorf("task: %w", err)
		}
		tasks = append(tasks, t)
	}
	for _, t := range tasks {
		fmt.Fprintln(w, taskHeader(t))
		if len(members) == 0 {
			if err := s.structCmd(w, []string{"struct", "task_struct", fmt.Sprintf("%x", t.Addr)}); err != nil {
				return err
			}
			continue
		}
		// -R: only the members asked for, "  name = value," each, then a
		// blank line, as crash prints them.
		for _, m := range members {
			m = strings.TrimSpace(m)
			if m == "" {
				continue
			}
			v, err := s.evalExpr(fmt.Sprintf("(*(struct task_struct *)%#x).%s", t.Addr, m))
			if err != nil {
				return fmt.Errorf("task -R %s: %w", m, err)
			}
			val, err := s.formatValue(v, 0)
			if err != nil {
				return fmt.Errorf("task -R %s: %w", m, err)
			}
			fmt.Fprintf(w, "  %s = %s,\n", m, strings.ReplaceAll(val, "\n", "\n  "))
		}
		fmt.Fprintln(w)
	}
	return nil
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
