package commands

import (
	"fmt"
	"io"
	"strconv"

	"github.com/kdumpkit/kdumpkit/analyze/kernel"
)

// timer is crash's timer: jiffies, then each CPU's timer wheel bases
// with their pending timers by expiry (-C cpu: that CPU's only).
func (s *Session) timer(w io.Writer, args []string) error {
	if err := s.needTypes("timer"); err != nil {
		return err
	}
	cpu := -1
	switch {
	case len(args) == 3 && args[1] == "-C":
		c, err := strconv.Atoi(args[2])
		if err != nil || c < 0 {
			return fmt.Errorf("timer -C: %q is not a CPU number", args[2])
		}
		cpu = c
	case len(args) != 1:
		return fmt.Errorf("timer [-C cpu]: %w", ErrUsage)
	}
	bases, err := s.Kernel.TimerBases()
	if len(bases) == 0 && err != nil {
		return fmt.Errorf("timer: %w", err)
	}
	if cpu >= 0 && !hasCPU(bases, cpu) {
		return fmt.Errorf("timer -C: no CPU %d", cpu)
	}
	j, jerr := s.Kernel.Jiffies()
	if jerr != nil {
		return fmt.Errorf("timer: jiffies: %w", jerr)
	}
	fmt.Fprintf(w, "JIFFIES\n%d\n", j)
	d := 2 * s.Kernel.PtrSize
	wide := s.Kernel.PtrSize == 8
	for _, b := range bases {
		if cpu >= 0 && b.CPU != cpu {
			continue
		}
		if b.Index == 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "TIMER_BASES[%d][%s]: %x\n", b.CPU, b.Name, b.Addr)
		if wide {
			fmt.Fprintln(w, "  EXPIRES        TTE         TIMER_LIST     FUNCTION")
		} else {
			fmt.Fprintln(w, "  EXPIRES     TTE          TIMER_LIST     FUNCTION")
		}
		for _, t := range b.Timers {
			// Time to expire in the kernel's word, as jiffies wrap.
			tte := int64(int32(t.Expires - j))
			if wide {
				tte = int64(t.Expires - j)
			}
			if wide {
				fmt.Fprintf(w, "  %14d  %7d  %*x  %*x  <%s>\n", t.Expires, tte, d, t.Addr, d, t.Function, s.symName(t.Function))
			} else {
				fmt.Fprintf(w, "  %7d  %8d      %*x      %*x  <%s>\n", t.Expires, tte, d, t.Addr, d, t.Function, s.symName(t.Function))
			}
		}
	}
	if err != nil {
		s.warn(w, err)
	}
	return nil
}

func hasCPU(bases []kernel.TimerBase, cpu int) bool {
	for _, b := range bases {
		if b.CPU == cpu {
			return true
		}
	}
	return false
}
