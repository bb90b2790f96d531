package commands

import (
	"debug/dwarf"
	"fmt"
	"io"
	"strings"

	"github.com/kdumpkit/kdumpkit/analyze/kernel"
)

// tree is crash's tree: "tree [-t rbtree|radix|xarray|maple] [-r offset]
// [-o offset] [-s|-S struct[.member[,member]]] [-l] [-p] [-N] start".
// start (an address or symbol) is the tree's root, or a struct holding
// it at -r's offset; with -N it is a node (rb_node, xa_node, or an
// encoded maple node pointer). An rbtree prints each node's containing
// struct (the node less -o's offset), node first then its left and right
// subtrees, or in order with -l; an XArray (a radix tree is one since
// 4.20) and a maple tree print each entry in index order. -p adds each
// one's position ("root/l/r"; index and slot path), -s the struct at
// each (-x, -d: its integers in hex or decimal). The walks are
// kernel.RBTree, XArray and MapleTree.
func (s *Session) tree(w io.Writer, args []string) error {
	usage := fmt.Errorf("tree [-t rbtree|radix|xarray|maple] [-r offset] [-o offset] [-s struct[.member,...]] [-x|-d] [-l] [-p] [-N] start: %w", ErrUsage)
	kind, rootArg, nodeArg, structArg, start := "rbtree", "", "", "", ""
	var linear, position, isNode bool
	radix := 0
	for i := 1; i < len(args); i++ {
		a := args[i]
		needs := func() (string, bool) {
			if i+1 >= len(args) {
				return "", false
			}
			i++
			return args[i], true
		}
		var ok = true
		switch a {
		case "-t":
			var t string
			if t, ok = needs(); ok {
				if kind = treeKind(t); kind == "" {
					return fmt.Errorf("tree: unknown tree type %q (rbtree, radix, xarray or maple)", t)
				}
			}
		case "-r":
			rootArg, ok = needs()
		case "-o":
			nodeArg, ok = needs()
		case "-s", "-S":
			structArg, ok = needs()
		case "-l":
			linear = true
		case "-p":
			position = true
		case "-N":
			isNode = true
		case "-x":
			radix = 16
		case "-d":
			radix = 10
		default:
			if strings.HasPrefix(a, "-") {
				return fmt.Errorf("tree: option %s not supported: %w", a, ErrUsage)
			}
			if start != "" {
				return usage
			}
			start = a
		}
		if !ok {
			return usage
		}
	}
	if start == "" {
		return usage
	}
	if kind != "rbtree" && (linear || nodeArg != "") {
		return fmt.Errorf("tree: -l and -o are for red-black trees only: %w", ErrUsage)
	}
	if isNode && rootArg != "" {
		return fmt.Errorf("tree: -N and -r exclude each other: %w", ErrUsage)
	}
	addr, err := s.parseAddr(start)
	if err != nil {
		return fmt.Errorf("tree: %w", err)
	}
	rootOff, err := s.linkOffset(rootArg)
	if err != nil {
		return fmt.Errorf("tree -r: %w", err)
	}
	nodeOff, err := s.linkOffset(nodeArg)
	if err != nil {
		return fmt.Errorf("tree -o: %w", err)
	}
	root := (addr + uint64(rootOff)) & s.Kernel.Mask()
	var st dwarf.Type
	var members []string
	if structArg != "" {
		if st, members, err = s.listStruct(structArg); err != nil {
			return fmt.Errorf("tree -s: %w", err)
		}
	}
	entries, walkErr := s.walkTree(kind, root, isNode, linear)
	for _, e := range entries {
		at := e.Entry
		if kind == "rbtree" {
			at = (e.Entry - uint64(nodeOff)) & s.Kernel.Mask()
		}
		fmt.Fprintf(w, "%x\n", at)
		if position {
			switch kind {
			case "rbtree":
				fmt.Fprintf(w, "  position: %s\n", e.Pos)
			case "maple":
				fmt.Fprintf(w, "  index: %d-%d  position: %s\n", e.Index, e.Last, e.Pos)
			default:
				fmt.Fprintf(w, "  index: %d  position: %s\n", e.Index, e.Pos)
			}
		}
		if st != nil {
			if err := s.structAtRadix(w, st, members, at, radix); err != nil {
				return fmt.Errorf("tree: %w", err)
			}
		}
	}
	if walkErr != nil {
		return fmt.Errorf("tree: %w", walkErr)
	}
	return nil
}

// treeKind reads -t's argument, crash's abbreviations included.
func treeKind(t string) string {
	switch t {
	case "rbtree", "rb":
		return "rbtree"
	case "radix", "ra", "xarray", "x":
		return "xarray"
	case "maple", "m":
		return "maple"
	}
	return ""
}

// walkTree runs the kernel's walker for kind from root (a root struct,
// or a node with isNode).
func (s *Session) walkTree(kind string, root uint64, isNode, linear bool) ([]kernel.TreeEntry, error) {
	switch kind {
	case "rbtree":
		top := root
		if !isNode {
			var err error
			if top, err = s.Kernel.ReadPtr(root); err != nil {
				return nil, fmt.Errorf("rb_root %#x: %w", root, err)
			}
		}
		return s.Kernel.RBTree(top, linear, kernel.MaxTreeEntries)
	case "xarray":
		if err := s.needTypes("tree -t xarray"); err != nil {
			return nil, err
		}
		l, err := s.Kernel.XArrayLayout()
		if err != nil {
			return nil, err
		}
		return s.Kernel.XArray(root, isNode, l, kernel.MaxTreeEntries)
	}
	if err := s.needTypes("tree -t maple"); err != nil {
		return nil, err
	}
	l, err := s.Kernel.MapleLayout()
	if err != nil {
		return nil, err
	}
	return s.Kernel.MapleTree(root, isNode, l, kernel.MaxTreeEntries)
}
