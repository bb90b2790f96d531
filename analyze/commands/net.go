package commands

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/kdumpkit/kdumpkit/analyze/escape"
)

// net is crash's net: each network device of the initial namespace with
// its IPv4 addresses.
func (s *Session) net(w io.Writer, args []string) error {
	if len(args) > 1 {
		return fmt.Errorf("net: option %s not supported: %w", args[1], ErrUsage)
	}
	if err := s.needTypes("net"); err != nil {
		return err
	}
	devs, warns := s.Kernel.NetDevices()
	if len(devs) == 0 && len(warns) > 0 {
		return fmt.Errorf("net: %w", errors.Join(warns...))
	}
	for _, e := range warns {
		s.warn(w, e)
	}
	digits := 2 * s.Kernel.PtrSize
	fmt.Fprintf(w, "%-*s  NAME   IP ADDRESS(ES)\n", digits+2, "NET_DEVICE")
	for _, d := range devs {
		ips := make([]string, len(d.IPv4))
		for i, a := range d.IPv4 {
			ips[i] = a.String()
		}
		fmt.Fprintf(w, " %0*x   %-6s %s\n", digits, d.Addr, escape.Text(d.Name), strings.Join(ips, ", "))
	}
	return nil
}
