package commands

import (
	"debug/dwarf"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/kdumpkit/kdumpkit/analyze/types"
)

// maxListEntries bounds list's walk: past it, the list is taken as
// corrupt (crash's limit is a loop check too).
const maxListEntries = 1 << 20

// list is crash's list: "list [-o offset] [-s struct[.member[,member]]]
// [-r] [-h | -H] start". The offset of the link in each entry is a
// number or struct.member (given alone as the first argument too); -h
// says start is an entry, -H that it is a list head outside the entries
// (the head is not printed); without either start is an entry. Each
// entry's address prints, then with -s the struct or its members there.
// A node met twice is reported, as crash's "duplicate list entry".
func (s *Session) list(w io.Writer, args []string) error {
	usage := fmt.Errorf("list [-o offset] [-s struct[.member,...]] [-r] [-h|-H] start: %w", ErrUsage)
	var offArg, structArg, start string
	head, reverse := false, false
	for i := 1; i < len(args); i++ {
		switch a := args[i]; {
		case a == "-o" && i+1 < len(args):
			i++
			offArg = args[i]
		case a == "-s" && i+1 < len(args):
			i++
			structArg = args[i]
		case a == "-h" && i+1 < len(args):
			i++
			start = args[i]
		case a == "-H" && i+1 < len(args):
			i++
			start, head = args[i], true
		case a == "-r":
			reverse = true
		case strings.HasPrefix(a, "-"):
			return fmt.Errorf("list: option %s not supported: %w", a, ErrUsage)
		case offArg == "" && strings.Contains(a, ".") && start == "" && i+1 < len(args):
			offArg = a
		case start == "":
			start = a
		default:
			return usage
		}
	}
	if start == "" {
		return usage
	}
	off, err := s.linkOffset(offArg)
	if err != nil {
		return fmt.Errorf("list: %w", err)
	}
	addr, err := s.parseAddr(start)
	if err != nil {
		return fmt.Errorf("list: %w", err)
	}
	first, stop := addr, uint64(0)
	if head {
		// -H: the head is a bare link; the entries start at its next.
		stop = addr
		link := addr
		if reverse {
			link += uint64(s.Kernel.PtrSize)
		}
		next, err := s.Kernel.ReadPtr(link)
		if err != nil {
			return fmt.Errorf("list: head %#x: %w", addr, err)
		}
		if next == addr || next == 0 {
			fmt.Fprintln(w, "(empty)")
			return nil
		}
		first = (next - uint64(off)) & s.Kernel.Mask()
	}
	entries, walkErr := s.Kernel.ListEntries(first, off, stop, reverse, maxListEntries)
	var st dwarf.Type
	var members []string
	if structArg != "" {
		if st, members, err = s.listStruct(structArg); err != nil {
			return fmt.Errorf("list -s: %w", err)
		}
	}
	for _, e := range entries {
		fmt.Fprintf(w, "%x\n", e)
		if st != nil {
			if err := s.structAt(w, st, members, e); err != nil {
				return fmt.Errorf("list: %w", err)
			}
		}
	}
	if walkErr != nil {
		return fmt.Errorf("list: %w", walkErr)
	}
	return nil
}

// linkOffset reads list's offset: "" (0), a number, or struct.member.
func (s *Session) linkOffset(arg string) (int64, error) {
	if arg == "" {
		return 0, nil
	}
	if n, err := strconv.ParseInt(arg, 0, 64); err == nil {
		return n, nil
	}
	typ, member, ok := strings.Cut(arg, ".")
	if !ok {
		return 0, fmt.Errorf("offset %q is neither a number nor struct.member", arg)
	}
	if err := s.needTypes("list"); err != nil {
		return 0, err
	}
	t, err := s.Kernel.Types.Named("struct " + typ)
	if err != nil {
		if t, err = s.Kernel.Types.Named(typ); err != nil {
			return 0, err
		}
	}
	m, err := types.MemberOf(t, member)
	if err != nil {
		return 0, err
	}
	return m.Offset, nil
}

// listStruct resolves -s struct[.member,member].
func (s *Session) listStruct(arg string) (dwarf.Type, []string, error) {
	if err := s.needTypes("list"); err != nil {
		return nil, nil, err
	}
	name, members, _ := strings.Cut(arg, ".")
	t, err := s.Kernel.Types.Named("struct " + name)
	if err != nil {
		if t, err = s.Kernel.Types.Named(name); err != nil {
			return nil, nil, err
		}
	}
	var ms []string
	if members != "" {
		ms = strings.Split(members, ",")
	}
	return t, ms, nil
}
