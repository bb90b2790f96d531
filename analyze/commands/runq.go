package commands

import (
	"errors"
	"fmt"
	"io"

	"github.com/kdumpkit/kdumpkit/analyze/kernel"
)

// runq is crash's runq: each CPU's runqueue, its current task, then the
// tasks queued on the RT priority array and the CFS tree, "[prio]" each.
func (s *Session) runq(w io.Writer, args []string) error {
	if len(args) > 1 {
		return fmt.Errorf("runq: option %s not supported: %w", args[1], ErrUsage)
	}
	if err := s.needTypes("runq"); err != nil {
		return err
	}
	qs, warns := s.Kernel.RunQueues()
	if len(qs) == 0 && len(warns) > 0 {
		return fmt.Errorf("runq: %w", errors.Join(warns...))
	}
	for _, e := range warns {
		s.warn(w, e)
	}
	for i, q := range qs {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "CPU %d RUNQUEUE: %x\n", q.CPU, q.Addr)
		if t, err := s.Kernel.TaskByAddr(q.Current); err == nil {
			fmt.Fprintf(w, "  CURRENT: PID: %-6d TASK: %x  COMMAND: %q\n", t.PID, t.Addr, t.Comm)
		} else {
			fmt.Fprintf(w, "  CURRENT: TASK: %x\n", q.Current)
		}
		fmt.Fprintf(w, "  RT PRIO_ARRAY: %x\n", q.RTArray)
		s.writeQueued(w, q.RT)
		fmt.Fprintf(w, "  CFS RB_ROOT: %x\n", q.CFSRoot)
		s.writeQueued(w, q.CFS)
	}
	return nil
}

func (s *Session) writeQueued(w io.Writer, qs []kernel.Queued) {
	if len(qs) == 0 {
		fmt.Fprintln(w, "     [no tasks queued]")
		return
	}
	for _, q := range qs {
		prio := q.Prio
		if prio < 0 {
			prio, _ = s.Kernel.Prio(q.Task)
		}
		fmt.Fprintf(w, "     [%3d] PID: %-6d TASK: %x  COMMAND: %q\n", prio, q.Task.PID, q.Task.Addr, q.Task.Comm)
	}
}
