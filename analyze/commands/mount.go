package commands

import (
	"fmt"
	"io"
	"strings"

	"github.com/kdumpkit/kdumpkit/analyze/escape"
)

// mount is crash's mount: the initial namespace's mounts with their
// struct mount, super_block, type, device name and directory.
func (s *Session) mount(w io.Writer, args []string) error {
	if len(args) > 1 {
		return fmt.Errorf("mount: option %s not supported: %w", args[1], ErrUsage)
	}
	if err := s.needTypes("mount"); err != nil {
		return err
	}
	ms, err := s.Kernel.Mounts()
	if len(ms) == 0 && err != nil {
		return fmt.Errorf("mount: %w", err)
	}
	digits := 2 * s.Kernel.PtrSize
	fmt.Fprintf(w, " %-*s %-*s TYPE   DEVNAME   DIRNAME\n", digits-1, "MOUNT", digits, "SUPERBLK")
	// crash's columns start at fixed places; a field too long for its
	// column pushes the next one a blank further, not a column.
	typeCol := 2 * (digits + 1)
	cols := []int{0, digits + 1, typeCol, typeCol + 7, typeCol + 17}
	for _, m := range ms {
		fields := []string{fmt.Sprintf("%0*x", digits, m.Addr), fmt.Sprintf("%0*x", digits, m.SuperBlock),
			escape.Text(m.Type), escape.Text(m.DevName), fmt.Sprintf("%-10s", escape.Text(m.Dir))}
		var line strings.Builder
		for i, f := range fields {
			switch {
			case line.Len() < cols[i]:
				line.WriteString(strings.Repeat(" ", cols[i]-line.Len()))
			case line.Len() > 0:
				line.WriteByte(' ')
			}
			line.WriteString(f)
		}
		fmt.Fprintln(w, line.String())
	}
	if err != nil {
		return fmt.Errorf("mount: %w", err)
	}
	return nil
}
