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
}

func (m Mismatch) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "CONFIG_%s: %s:%d asks for %s, the final .config has %s",
		m.Want.Name, m.Want.File, m.Want.Line, m.Want.Value, m.Got.Value)
	if m.Symbol != nil {
		for _, d := range m.Symbol.Depends {
			fmt.Fprintf(&b, "\n    %s", d)
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
// k may be nil; then mismatches carry no dependency explanation.
func Verify(final *Config, k *Kconfig, frags ...*Config) []Mismatch {
	var out []Mismatch
	for _, f := range frags {
		for _, want := range f.Entries() {
			got, _ := final.Get(want.Name)
			if got == want.Value {
				continue
			}
			m := Mismatch{Want: want, Got: Entry{Name: want.Name, Value: got}}
			if k != nil {
				m.Symbol, _ = k.Lookup(want.Name)
			}
			out = append(out, m)
		}
	}
	return out
}
