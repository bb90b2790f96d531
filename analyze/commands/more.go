package commands

import (
	"fmt"
	"io"
	"strconv"
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

// foreachCommands are the per-task commands foreach runs, as crash's
// foreach allows them; each gets the task's address as its argument.
var foreachCommands = map[string]bool{"bt": true, "task": true, "files": true, "vm": true, "ps": true, "set": true}

// foreach is crash's foreach: "foreach [pid | taskp | name | state |
// kernel | user | active]... command [flags]" runs a per-task command
// (bt, task, files, vm, ps, set) for every task the selectors pick (all
// tasks without one). A state is crash's two letters (RU, IN, UN, ID...).
func (s *Session) foreach(w io.Writer, args []string) error {
	cmdAt := -1
	for i, a := range args[1:] {
		if foreachCommands[a] {
			cmdAt = i + 1
			break
		}
	}
	if cmdAt < 0 {
		return fmt.Errorf("foreach [pid | taskp | name | state | kernel | user | active]... bt|task|files|vm|ps|set [flags]: %w", ErrUsage)
	}
	tasks, warns := s.Kernel.Tasks()
	for _, e := range warns {
		s.warn(w, e)
	}
	picked, err := s.foreachSelect(tasks, args[1:cmdAt])
	if err != nil {
		return err
	}
	name, flags := args[cmdAt], args[cmdAt+1:]
	for i, t := range picked {
		if name == "bt" {
			if i > 0 {
				fmt.Fprintln(w)
			}
			if err := s.Run(w, strings.Join(append(append([]string{"bt"}, flags...), fmt.Sprintf("%x", t.Addr)), " ")); err != nil {
				fmt.Fprintf(w, "%s\n    (%v)\n", taskHeader(t), err)
			}
			continue
		}
		line := strings.Join(append(append([]string{name}, flags...), fmt.Sprintf("%x", t.Addr)), " ")
		if err := s.Run(w, line); err != nil {
			return fmt.Errorf("foreach: PID %d: %w", t.PID, err)
		}
	}
	return nil
}

// foreachSelect keeps the tasks any selector picks: a PID, a task
// address, a command name, a state, kernel or user threads, the tasks
// active on a CPU.
func (s *Session) foreachSelect(tasks []kernel.Task, sel []string) ([]kernel.Task, error) {
	if len(sel) == 0 {
		return tasks, nil
	}
	active := map[uint64]bool{}
	for _, a := range s.Kernel.ActiveTasks() {
		active[a] = true
	}
	states := map[string]bool{"RU": true, "IN": true, "UN": true, "ST": true, "TR": true, "ZO": true, "DE": true, "ID": true, "PA": true, "WA": true, "NE": true}
	var out []kernel.Task
	for _, t := range tasks {
		for _, c := range sel {
			hit := false
			switch {
			case states[c]:
				hit = t.StateName() == c
			case c == "kernel":
				hit = t.IsKernelThread()
			case c == "user":
				hit = !t.IsKernelThread()
			case c == "active":
				hit = active[t.Addr]
			case strconv.Itoa(t.PID) == c || c == t.Comm:
				hit = true
			default:
				if a, err := strconv.ParseUint(strings.TrimPrefix(c, "0x"), 16, 64); err == nil && a == t.Addr {
					hit = true
				}
			}
			if hit {
				out = append(out, t)
				break
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("foreach: no task matches %s", strings.Join(sel, " "))
	}
	return out, nil
}
