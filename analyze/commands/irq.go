package commands

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/kdumpkit/kdumpkit/analyze/escape"
	"github.com/kdumpkit/kdumpkit/analyze/kernel"
)

// irq is crash's irq: each descriptor with its irqaction names (2.6.37+
// shape); -u in-use ones only; -a their CPU affinity; -s the per-CPU
// counts; -b the softirq vector; INDEX... those IRQs.
func (s *Session) irq(w io.Writer, args []string) error {
	if err := s.needTypes("irq"); err != nil {
		return err
	}
	mode := ""
	var want []uint64
	for _, a := range args[1:] {
		switch a {
		case "-u", "-a", "-s", "-b":
			if mode != "" {
				return fmt.Errorf("irq [-u|-a|-s|-b] [index...]: %w", ErrUsage)
			}
			mode = a
		default:
			n, err := strconv.ParseUint(a, 0, 32)
			if err != nil || strings.HasPrefix(a, "-") {
				return fmt.Errorf("irq: %q is not an IRQ number: %w", a, ErrUsage)
			}
			want = append(want, n)
		}
	}
	if mode == "-b" {
		vec, err := s.Kernel.Softirqs()
		if err != nil {
			return fmt.Errorf("irq -b: %w", err)
		}
		fmt.Fprintln(w, "SOFTIRQ_VEC  ACTION ")
		for _, v := range vec {
			fmt.Fprintf(w, "    [%d]     %0*x  <%s>\n", v.Nr, 2*s.Kernel.PtrSize, v.Action, s.symName(v.Action))
		}
		return nil
	}
	irqs, err := s.Kernel.IRQs()
	if len(irqs) == 0 && err != nil {
		return fmt.Errorf("irq: %w", err)
	}
	if err != nil {
		s.warn(w, err)
	}
	if len(want) > 0 {
		byNr := map[uint64]kernel.IRQ{}
		for _, q := range irqs {
			byNr[q.IRQ] = q
		}
		irqs = irqs[:0]
		for _, n := range want {
			q, ok := byNr[n]
			if !ok {
				return fmt.Errorf("irq: IRQ %d has no descriptor", n)
			}
			irqs = append(irqs, q)
		}
	}
	d := 2 * s.Kernel.PtrSize
	switch mode {
	case "-a":
		fmt.Fprintln(w, "IRQ NAME                 AFFINITY")
		for _, q := range irqs {
			if len(q.Actions) > 0 {
				fmt.Fprintf(w, "%3d %-20s %s\n", q.IRQ, escape.Text(actionNames(q)), cpuList(q.Affinity))
			}
		}
	case "-s":
		n := len(s.Kernel.CPUs)
		for _, q := range irqs {
			n = max(n, len(q.Counts))
		}
		fmt.Fprint(w, "    ")
		for c := 0; c < n; c++ {
			fmt.Fprintf(w, "%11s", fmt.Sprintf("CPU%d", c))
		}
		fmt.Fprintln(w, " ")
		for _, q := range irqs {
			if len(q.Actions) == 0 {
				continue
			}
			fmt.Fprintf(w, "%3d:", q.IRQ)
			for c := 0; c < n; c++ {
				v := uint64(0)
				if c < len(q.Counts) {
					v = q.Counts[c]
				}
				fmt.Fprintf(w, "%11d", v)
			}
			fmt.Fprintf(w, "  %s\n", escape.Text(actionNames(q)))
		}
	default:
		fmt.Fprintf(w, " IRQ  %-*s  %-*s  NAME\n", d+6, "IRQ_DESC/_DATA", d+1, "IRQACTION")
		for _, q := range irqs {
			if len(q.Actions) == 0 {
				if mode != "-u" {
					fmt.Fprintf(w, "%3d      %-*x     %-*s   \n", q.IRQ, d, q.Desc, d, "(unused)")
				}
				continue
			}
			for i, a := range q.Actions {
				lead := fmt.Sprintf("%3d      %-*x", q.IRQ, d, q.Desc)
				if i > 0 {
					lead = strings.Repeat(" ", len(lead))
				}
				fmt.Fprintf(w, "%s     %-*x   %q\n", lead, d, a.Addr, escape.Text(a.Name))
			}
		}
	}
	return nil
}

func actionNames(q kernel.IRQ) string {
	var n []string
	for _, a := range q.Actions {
		n = append(n, a.Name)
	}
	return strings.Join(n, ",")
}

// cpuList spells CPUs as crash does: "0-3,6".
func cpuList(cpus []int) string {
	var parts []string
	for i := 0; i < len(cpus); {
		j := i
		for j+1 < len(cpus) && cpus[j+1] == cpus[j]+1 {
			j++
		}
		if j > i {
			parts = append(parts, fmt.Sprintf("%d-%d", cpus[i], cpus[j]))
		} else {
			parts = append(parts, strconv.Itoa(cpus[i]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

// symName is the symbol at addr, "+off" when inside it, or the address.
func (s *Session) symName(addr uint64) string {
	sy, off, err := s.Kernel.Syms.At(addr)
	if err != nil {
		return fmt.Sprintf("%x", addr)
	}
	if off > 0 {
		return fmt.Sprintf("%s+%d", escape.Text(sy.Name), off)
	}
	return escape.Text(sy.Name)
}
