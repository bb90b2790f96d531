package kernelcfg

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Symbol is what the Kconfig files say about one config symbol: where it is
// defined and what it depends on.
type Symbol struct {
	Name string
	// Defs are "file:line" of each definition (a symbol may be defined
	// in several arch Kconfig files).
	Defs []string
	// Depends are the `depends on` expressions, including those of
	// enclosing `if` blocks and menus, each with its file:line.
	Depends []string
	// Choice is the prompt of the choice the symbol belongs to, if any:
	// only one member of a choice can be y.
	Choice string
}

// Kconfig indexes the symbols of a kernel tree.
type Kconfig struct {
	syms map[string]*Symbol
}

// ScanKconfig reads every Kconfig* file under dir, leaving out arch/X for
// every X but srcArch (the directory under arch/, "x86" for x86_64; "" keeps
// them all): KEXEC alone is defined by twelve arches in 6.1, and only the
// board's own says why its value came out as it did. It does not evaluate
// expressions: it gathers what a person needs to see.
func ScanKconfig(dir, srcArch string) (*Kconfig, error) {
	k := &Kconfig{syms: map[string]*Symbol{}}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); p != dir && (strings.HasPrefix(n, ".") || n == "Documentation" || n == "tools") {
				return filepath.SkipDir
			}
			if srcArch != "" && filepath.Dir(p) == filepath.Join(dir, "arch") && d.Name() != srcArch {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasPrefix(d.Name(), "Kconfig") {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		rel, _ := filepath.Rel(dir, p)
		return k.scan(rel, f)
	})
	if err != nil {
		return nil, fmt.Errorf("scanning Kconfig files under %s: %w", dir, err)
	}
	return k, nil
}

// scan adds one Kconfig file's symbols. Blocks opened by if/menu/choice
// are tracked with a stack so their conditions reach the symbols inside.
func (k *Kconfig) scan(name string, r io.Reader) error {
	type block struct {
		kind, cond, choice string
	}
	var stack []block
	var cur *Symbol
	inHelp, helpIndent := false, 0
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	next := 1 // number of the next physical line
	for sc.Scan() {
		n := next
		raw := sc.Text()
		next++
		// A trailing backslash continues the line; without joining, the
		// "if FOO" of a continued "select BAR \" reads as an if block.
		for strings.HasSuffix(raw, "\\") && sc.Scan() {
			raw = strings.TrimSuffix(raw, "\\") + " " + strings.TrimSpace(sc.Text())
			next++
		}
		line := strings.TrimSpace(raw)
		if inHelp {
			ind := len(raw) - len(strings.TrimLeft(raw, " \t"))
			if line == "" || ind > helpIndent {
				continue
			}
			inHelp = false
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		word, rest, _ := strings.Cut(line, " ")
		rest = strings.TrimSpace(rest)
		at := fmt.Sprintf("%s:%d", name, n)
		switch word {
		case "config", "menuconfig":
			cur = k.sym(rest)
			cur.Defs = append(cur.Defs, at)
			for _, b := range stack {
				if b.cond != "" {
					cur.Depends = append(cur.Depends, b.cond)
				}
				if b.kind == "choice" && cur.Choice == "" {
					cur.Choice = b.choice
				}
			}
		case "depends":
			expr := strings.TrimSpace(strings.TrimPrefix(rest, "on"))
			d := fmt.Sprintf("depends on %s (%s)", expr, at)
			if cur != nil {
				cur.Depends = append(cur.Depends, d)
			} else if len(stack) > 0 {
				top := &stack[len(stack)-1]
				top.cond = strings.TrimSpace(top.cond + "; " + d)
				top.cond = strings.TrimPrefix(top.cond, "; ")
			}
		case "if":
			cur = nil
			stack = append(stack, block{kind: "if", cond: fmt.Sprintf("if %s (%s)", rest, at)})
		case "menu":
			cur = nil
			stack = append(stack, block{kind: "menu"})
		case "choice":
			cur = nil
			stack = append(stack, block{kind: "choice", choice: at})
		case "prompt":
			if len(stack) > 0 && stack[len(stack)-1].kind == "choice" && cur == nil {
				stack[len(stack)-1].choice = strings.Trim(rest, `"`) + " (" + at + ")"
			}
		case "endif", "endmenu", "endchoice":
			cur = nil
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case "help", "---help---":
			inHelp = true
			helpIndent = len(raw) - len(strings.TrimLeft(raw, " \t"))
		case "comment", "source", "mainmenu":
			cur = nil
		case "bool", "tristate", "string", "int", "hex":
			if cur == nil && len(stack) > 0 && stack[len(stack)-1].kind == "choice" && rest != "" {
				stack[len(stack)-1].choice = strings.Trim(rest, `"`) + " (" + at + ")"
			}
		}
	}
	return sc.Err()
}

func (k *Kconfig) sym(name string) *Symbol {
	s := k.syms[name]
	if s == nil {
		s = &Symbol{Name: name}
		k.syms[name] = s
	}
	return s
}

// Lookup returns what the Kconfig files say about a symbol.
func (k *Kconfig) Lookup(name string) (*Symbol, bool) {
	s, ok := k.syms[name]
	return s, ok
}
