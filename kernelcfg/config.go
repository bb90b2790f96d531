package kernelcfg

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// ErrSyntax means a config line is neither an assignment, a "not set"
// comment, another comment nor blank.
var ErrSyntax = errors.New("config syntax")

// Entry is one symbol's value and where it was set. Value is "y", "m",
// "n" (for "is not set"), a number, or a string with its quotes.
type Entry struct {
	Name  string // without the CONFIG_ prefix
	Value string
	File  string
	Line  int
}

// Config is an ordered set of symbol values.
type Config struct {
	entries map[string]Entry
	order   []string
}

// Parse reads a .config or fragment; name is used in errors and in each
// entry's File.
func Parse(name string, r io.Reader) (*Config, error) {
	c := &Config{entries: map[string]Entry{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		e, ok, err := parseLine(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %q: %w", name, n, line, err)
		}
		if ok {
			e.File, e.Line = name, n
			c.Set(e)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return c, nil
}

func parseLine(line string) (Entry, bool, error) {
	if line == "" {
		return Entry{}, false, nil
	}
	if strings.HasPrefix(line, "#") {
		rest := strings.TrimSpace(line[1:])
		if sym, ok := strings.CutSuffix(rest, " is not set"); ok && strings.HasPrefix(sym, "CONFIG_") {
			name := strings.TrimPrefix(sym, "CONFIG_")
			if !validName(name) {
				return Entry{}, false, fmt.Errorf("bad symbol name %q: %w", name, ErrSyntax)
			}
			return Entry{Name: name, Value: "n"}, true, nil
		}
		return Entry{}, false, nil
	}
	sym, val, ok := strings.Cut(line, "=")
	if !ok || !strings.HasPrefix(sym, "CONFIG_") {
		return Entry{}, false, fmt.Errorf("want CONFIG_NAME=value or '# CONFIG_NAME is not set': %w", ErrSyntax)
	}
	name := strings.TrimPrefix(sym, "CONFIG_")
	if !validName(name) {
		return Entry{}, false, fmt.Errorf("bad symbol name %q: %w", name, ErrSyntax)
	}
	if val == "" {
		return Entry{}, false, fmt.Errorf("CONFIG_%s has no value: %w", name, ErrSyntax)
	}
	if strings.HasPrefix(val, `"`) && (len(val) < 2 || !strings.HasSuffix(val, `"`)) {
		return Entry{}, false, fmt.Errorf("unterminated string: %w", ErrSyntax)
	}
	return Entry{Name: name, Value: val}, true, nil
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// Set records a value, keeping the first position of the symbol.
func (c *Config) Set(e Entry) {
	if _, ok := c.entries[e.Name]; !ok {
		c.order = append(c.order, e.Name)
	}
	c.entries[e.Name] = e
}

// Get returns a symbol's value; a symbol the config does not mention is
// "n" with ok false (the kernel treats them alike for bools).
func (c *Config) Get(name string) (string, bool) {
	e, ok := c.entries[name]
	if !ok {
		return "n", false
	}
	return e.Value, true
}

// Entries returns the entries in file order.
func (c *Config) Entries() []Entry {
	out := make([]Entry, 0, len(c.order))
	for _, n := range c.order {
		out = append(out, c.entries[n])
	}
	return out
}

// Merge lays frag over c: frag's values win, as in merge_config.sh.
func (c *Config) Merge(frag *Config) {
	for _, e := range frag.Entries() {
		c.Set(e)
	}
}

// WriteTo writes c in .config syntax.
func (c *Config) WriteTo(w io.Writer) (int64, error) {
	bw := bufio.NewWriter(w)
	var n int64
	for _, e := range c.Entries() {
		var k int
		if e.Value == "n" {
			k, _ = fmt.Fprintf(bw, "# CONFIG_%s is not set\n", e.Name)
		} else {
			k, _ = fmt.Fprintf(bw, "CONFIG_%s=%s\n", e.Name, e.Value)
		}
		n += int64(k)
	}
	return n, bw.Flush()
}

// Names returns the symbol names, sorted.
func (c *Config) Names() []string {
	out := append([]string(nil), c.order...)
	sort.Strings(out)
	return out
}
