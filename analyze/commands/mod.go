package commands

import (
	"fmt"
	"io"

	"github.com/kdumpkit/kdumpkit/analyze/escape"
)

// mod is crash's mod: the loaded modules, or crash's "no modules
// installed". (Loading a module's debuginfo, mod -s, is not done.)
func (s *Session) mod(w io.Writer, args []string) error {
	if len(args) > 1 {
		return fmt.Errorf("mod: option %s not supported: %w", args[1], ErrUsage)
	}
	if err := s.needTypes("mod"); err != nil {
		return err
	}
	mods, err := s.Kernel.Modules()
	if len(mods) == 0 && err == nil {
		fmt.Fprintln(w, "no modules installed")
		return nil
	}
	digits := 2 * s.Kernel.PtrSize
	fmt.Fprintf(w, "%s  %-20s %s  %8s  OBJECT FILE\n", centre("MODULE", digits), "NAME", centre("BASE", digits), "SIZE")
	for _, m := range mods {
		fmt.Fprintf(w, "%0*x  %-20s %0*x  %8d  (not loaded)\n", digits, m.Addr, escape.Text(m.Name), digits, m.Base, m.Size)
	}
	if err != nil {
		return fmt.Errorf("mod: %w", err)
	}
	return nil
}
