package commands

import (
	"fmt"
	"io"
	"strings"

	"github.com/kdumpkit/kdumpkit/analyze/escape"
)

// dev is crash's dev: the character devices (chrdevs[]: major, name, the
// cdev and its file_operations) then the block devices (major_names[]:
// major, name, the major's first gendisk and its operations), in crash
// 8.0.2's columns. -i the I/O port and memory resource trees. -p (PCI) has nothing to show on kernels without
// pci_root_buses, as crash says; -d/-D (in-flight requests counted
// through blk-mq's tag bitmaps) are not implemented.
func (s *Session) dev(w io.Writer, args []string) error {
	if err := s.needTypes("dev"); err != nil {
		return err
	}
	if len(args) > 2 {
		return fmt.Errorf("dev [-i|-p|-d|-D]: %w", ErrUsage)
	}
	if len(args) == 2 {
		switch args[1] {
		case "-p":
			if _, err := s.Kernel.Syms.Addr("pci_root_buses"); err != nil {
				return fmt.Errorf("dev: -p option not supported or applicable on this architecture or kernel (no pci_root_buses)")
			}
			return fmt.Errorf("dev -p: PCI device listing is not supported by this analyzer")
		case "-i":
			return s.devIO(w)
		case "-d", "-D":
			return fmt.Errorf("dev %s: disk I/O statistics (blk-mq in-flight requests) are not supported by this analyzer", args[1])
		default:
			return fmt.Errorf("dev: unknown option %q (dev [-i|-p|-d|-D]): %w", args[1], ErrUsage)
		}
	}
	chr, cerr := s.Kernel.CharDevs()
	if len(chr) == 0 && cerr != nil {
		return fmt.Errorf("dev: %w", cerr)
	}
	blk, berr := s.Kernel.BlockDevs()
	if len(blk) == 0 && berr != nil {
		return fmt.Errorf("dev: %w", berr)
	}
	d := 2 * s.Kernel.PtrSize
	narrow := ""
	if d == 8 {
		narrow = " "
	}
	// crash pads the address column one space wider when the pointer is
	// no wider than "OPERATIONS".
	lead := " "
	if d <= len("OPERATIONS") {
		lead = "  "
	}
	row := func(major uint64, name string, addr, ops uint64) {
		fmt.Fprintf(w, " %3d      %-13s ", major, escape.Text(name))
		if ops == 0 {
			fmt.Fprintf(w, "%s%s\n", map[bool]string{true: "  ", false: " "}[d == 8], centre("(none)", d))
			return
		}
		fmt.Fprintf(w, "%s%*x  %s\n", lead, d, addr, s.symName(ops))
	}
	fmt.Fprintf(w, "CHRDEV    NAME           %s%s  %-*s\n", narrow, centre("CDEV", d), d, "OPERATIONS")
	for _, c := range chr {
		row(c.Major, c.Name, c.Cdev, c.Ops)
	}
	fmt.Fprintln(w)
	// GENDISK is centred leaning right, as crash's mkstring(CENTER|RJUST).
	pad := max(d-len("GENDISK"), 0)
	gendisk := strings.Repeat(" ", pad-pad/2) + "GENDISK" + strings.Repeat(" ", pad/2)
	fmt.Fprintf(w, "BLKDEV    NAME           %s%s  %-*s\n", narrow, gendisk, d, "OPERATIONS")
	for _, b := range blk {
		name := b.Name
		if name == "" {
			name = "(unknown)"
		}
		row(b.Major, name, b.Disk, b.Ops)
	}
	if cerr != nil {
		s.warn(w, cerr)
	}
	if berr != nil {
		s.warn(w, berr)
	}
	return nil
}

// devIO is dev -i: ioport_resource's tree, then iomem_resource's, each
// entry's address, range and name, a name too long for 80 columns
// wrapped at a space as crash does.
func (s *Session) devIO(w io.Writer) error {
	d := 2 * s.Kernel.PtrSize
	for i, root := range []string{"ioport_resource", "iomem_resource"} {
		rs, err := s.Kernel.Resources(root)
		if len(rs) == 0 && err != nil {
			return fmt.Errorf("dev -i: %w", err)
		}
		// 4 hex digits a bound while the root's range fits in 16 bits.
		digits := 4
		if len(rs) > 0 && rs[0].End > 0xffff {
			digits = 8
		}
		if i > 0 {
			fmt.Fprintln(w)
		}
		res := "RESOURCE"
		if d > len(res) {
			res = centre(res, d)
		}
		fmt.Fprintf(w, "%s  %s  NAME\n", res, centre("RANGE", 2*digits+1))
		wrap := d + 2 + 2*digits + 1 + 2
		for _, r := range rs {
			name := r.Name
			if name == "" {
				name = "(unknown)"
			}
			name = escape.Text(name)
			fmt.Fprintf(w, "%8x  %0*x-%0*x  ", r.Addr, digits, r.Start, digits, r.End)
			first, rest := wrapName(name, wrap+len(name)-80)
			fmt.Fprintln(w, first)
			if rest != "" {
				fmt.Fprintf(w, "%s%s\n", strings.Repeat(" ", wrap), rest)
			}
		}
		if err != nil {
			s.warn(w, err)
		}
	}
	return nil
}

// wrapName cuts name at the last space that leaves at least over bytes
// after it (none when over <= 0 or no space does), as crash's
// do_resource_list wraps names past column 80.
func wrapName(name string, over int) (string, string) {
	if over <= 0 {
		return name, ""
	}
	for i := len(name) - 1; i > 0; i-- {
		if name[i] == ' ' && len(name)-1-i >= over {
			return name[:i], name[i+1:]
		}
	}
	return name, ""
}
