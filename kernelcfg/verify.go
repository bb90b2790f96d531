package kernelcfg

import (
	"errors"
	"fmt"
	"strings"
)

// ErrUnknownSymbol means a fragment names a symbol no Kconfig file defines
// (a typo, or a symbol removed in this kernel version).
var ErrUnknownSymbol = errors.New("symbol is defined in no Kconfig file")

// Mismatch is a requested symbol whose final value differs from the request.
type Mismatch struct {
	Want, Got Entry // Want carries the fragment's file and line
	Symbol    *Symbol
	// DepValues are the final values of the symbols that Symbol's
	// depends on and if lines name, in the order they appear: the
	// one that is n is usually the answer.
	DepValues []Entry
}

func (m Mismatch) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "CONFIG_%s: %s:%d asks for %s, the final .config has %s",
		m.Want.Name, m.Want.File, m.Want.Line, m.Want.Value, m.Got.Value)
	if m.Symbol != nil {
		for _, d := range m.Symbol.Depends {
			fmt.Fprintf(&b, "\n    %s", d)
		}
		if len(m.DepValues) > 0 {
			var vals []string
			for _, e := range m.DepValues {
				vals = append(vals, e.Name+"="+e.Value)
			}
			fmt.Fprintf(&b, "\n    in the final .config: %s", strings.Join(vals, " "))
		}
		if m.Symbol.Choice != "" {
			fmt.Fprintf(&b, "\n    member of choice %s: another member may be selected", m.Symbol.Choice)
		}
		if len(m.Symbol.Depends) == 0 && m.Symbol.Choice == "" {
			fmt.Fprintf(&b, "\n    defined at %s with no depends on: look for a select or a missing prompt", strings.Join(m.Symbol.Defs, ", "))
		}
	}
	return b.String()
}

// CheckKnown fails on the first fragment symbol that no Kconfig file
// defines, naming the fragment file and line.
func CheckKnown(k *Kconfig, frags ...*Config) error {
	for _, f := range frags {
		for _, e := range f.Entries() {
			if _, ok := k.Lookup(e.Name); !ok {
				return fmt.Errorf("%s:%d: CONFIG_%s: %w", e.File, e.Line, e.Name, ErrUnknownSymbol)
			}
		}
	}
	return nil
}

// Verify returns every fragment request the final config does not honour.
// Fragments merge in order, as they are applied: a later fragment's value
// for a symbol replaces an earlier one's (a board may turn off what a
// shipped fragment turns on). k may be nil; then mismatches carry no
// dependency explanation.
func Verify(final *Config, k *Kconfig, frags ...*Config) []Mismatch {
	var out []Mismatch
	wanted := &Config{entries: map[string]Entry{}}
	for _, f := range frags {
		wanted.Merge(f)
	}
	for _, want := range wanted.Entries() {
		got, _ := final.Get(want.Name)
		if got == want.Value {
			continue
		}
		m := Mismatch{Want: want, Got: Entry{Name: want.Name, Value: got}}
		if k != nil {
			m.Symbol, _ = k.Lookup(want.Name)
		}
		if m.Symbol != nil {
			for _, name := range depSymbols(m.Symbol.Depends) {
				v, _ := final.Get(name)
				m.DepValues = append(m.DepValues, Entry{Name: name, Value: v})
			}
		}
		out = append(out, m)
	}
	return out
}

// depSymbols lists, once each, the symbol names in depends on / if lines
// as Symbol.Depends writes them: "depends on A && !B (file:line)".
func depSymbols(deps []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, d := range deps {
		for _, part := range strings.Split(d, "; ") {
			if i := strings.LastIndex(part, " ("); i >= 0 {
				part = part[:i]
			}
			part = strings.TrimPrefix(strings.TrimPrefix(part, "depends on "), "if ")
			for _, tok := range strings.FieldsFunc(part, func(r rune) bool { return !isSymRune(r) }) {
				if isSymbolName(tok) && !seen[tok] {
					seen[tok] = true
					out = append(out, tok)
				}
			}
		}
	}
	return out
}

func isSymRune(r rune) bool {
	return r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_'
}

// isSymbolName keeps CONFIG-style names (upper case, digits, underscores,
// at least one letter) and drops the constants y, n and m and numbers.
func isSymbolName(tok string) bool {
	letter := false
	for _, r := range tok {
		switch {
		case r >= 'A' && r <= 'Z':
			letter = true
		case r >= '0' && r <= '9', r == '_':
		default:
			return false
		}
	}
	return letter
}
