package commands

import (
	"fmt"
	"io"

	"github.com/kdumpkit/kdumpkit/analyze/escape"
)

// swap is crash's swap: each swap area in use with its type, size, use
// and priority; the header alone when there is none.
func (s *Session) swap(w io.Writer, args []string) error {
	if len(args) > 1 {
		return fmt.Errorf("swap: option %s not supported: %w", args[1], ErrUsage)
	}
	if err := s.needTypes("swap"); err != nil {
		return err
	}
	areas, err := s.Kernel.SwapAreas()
	if err != nil {
		return fmt.Errorf("swap: %w", err)
	}
	fmt.Fprintln(w, "SWAP_INFO_STRUCT    TYPE       SIZE       USED     PCT  PRI  FILENAME")
	kb := s.Kernel.PageSize() / 1024
	for _, a := range areas {
		typ := "FILE"
		if a.Partition {
			typ = "PARTITION"
		}
		pct := uint64(0)
		if a.Pages > 0 {
			pct = a.Used * 100 / a.Pages
		}
		fmt.Fprintf(w, "%16x  %-9s %9dk %9dk %5d%% %4d  %s\n", a.Addr, typ, a.Pages*kb, a.Used*kb, pct, a.Prio, escape.Text(a.File))
	}
	return nil
}
