package commands

import (
	"fmt"
	"io"
	"strings"

	"github.com/kdumpkit/kdumpkit/analyze/escape"
)

// waitq is crash's waitq: the tasks waiting on a wait_queue_head given
// as a symbol, as "struct.member ADDRESS", or as an address.
func (s *Session) waitq(w io.Writer, args []string) error {
	if err := s.needTypes("waitq"); err != nil {
		return err
	}
	usage := fmt.Errorf("waitq symbol | struct.member address | address: %w", ErrUsage)
	var head uint64
	name := ""
	switch len(args) {
	case 2:
		if a, err := s.Kernel.Syms.Addr(args[1]); err == nil {
			head, name = a, args[1]
			break
		}
		a, err := s.parseAddr(args[1])
		if err != nil {
			return fmt.Errorf("waitq: %w", err)
		}
		head = a
	case 3:
		typ, member, ok := strings.Cut(args[1], ".")
		if !ok {
			return usage
		}
		base, err := s.parseAddr(args[2])
		if err != nil {
			return fmt.Errorf("waitq: %w", err)
		}
		off, err := s.Kernel.Types.Offset("struct "+strings.TrimPrefix(typ, "struct "), member)
		if err != nil {
			return fmt.Errorf("waitq: %w", err)
		}
		head = base + uint64(off)
	default:
		return usage
	}
	tasks, err := s.Kernel.WaitQueueTasks(head)
	if err != nil {
		return fmt.Errorf("waitq: %#x: %w", head, err)
	}
	if len(tasks) == 0 {
		if name != "" {
			fmt.Fprintf(w, "wait queue %q (%x) is empty\n", escape.Text(name), head)
		} else {
			fmt.Fprintf(w, "wait queue %x is empty\n", head)
		}
		return nil
	}
	for _, t := range tasks {
		fmt.Fprintln(w, taskHeader(t))
	}
	return nil
}
