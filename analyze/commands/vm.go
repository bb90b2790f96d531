package commands

import (
	"fmt"
	"io"

	"github.com/kdumpkit/kdumpkit/analyze/escape"
)

// vm is crash's vm: a task's mm, page directory, RSS and size, then each
// VMA's start, end, flags and file, read from the mm's maple tree (6.1;
// crash 8.0.2 cannot walk it).
func (s *Session) vm(w io.Writer, args []string) error {
	if err := s.needTypes("vm"); err != nil {
		return err
	}
	tasks, err := s.taskArgs("vm", args[1:])
	if err != nil {
		return err
	}
	kb := s.Kernel.PageSize() / 1024
	for i, t := range tasks {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w, taskHeader(t))
		if t.MM == 0 {
			fmt.Fprintln(w, "   MM       PGD      RSS    TOTAL_VM\n   0         0       0k      0k")
			continue
		}
		pgd, _ := s.Kernel.ReadPtr(t.MM + s.mmPGDOffset())
		fmt.Fprintln(w, "   MM       PGD      RSS    TOTAL_VM")
		fmt.Fprintf(w, "%8x  %8x  %5dk  %6dk\n", t.MM, pgd, t.RSS*kb, t.Total*kb)
		vmas, err := s.Kernel.VMAs(t)
		fmt.Fprintln(w, "  VMA       START      END    FLAGS  FILE")
		for _, v := range vmas {
			fmt.Fprintf(w, "%8x  %8x  %8x  %6x  %s\n", v.Addr, v.Start, v.End, v.Flags, escape.Text(v.File))
		}
		if err != nil {
			return fmt.Errorf("vm: PID %d: %w", t.PID, err)
		}
	}
	return nil
}

// mmPGDOffset is the offset of mm_struct.pgd.
func (s *Session) mmPGDOffset() uint64 {
	if off, err := s.Kernel.Types.Offset("struct mm_struct", "pgd"); err == nil {
		return uint64(off)
	}
	return 0
}
