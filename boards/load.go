package boards

import (
	"bufio"
	"bytes"
	"embed"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/kdumpkit/kdumpkit/internal/regularfile"
	"github.com/kdumpkit/kdumpkit/protocol"
)

//go:embed *.toml fragments/*.config
var shipped embed.FS

// Names lists the shipped boards.
func Names() []string { return shippedNames(".", ".toml") }

// FragmentNames lists the shipped kernel config fragments.
func FragmentNames() []string { return shippedNames("fragments", ".config") }

// shippedNames lists the embedded files of dir ending in suffix, without it.
func shippedNames(dir, suffix string) []string {
	ents, _ := shipped.ReadDir(dir)
	var names []string
	for _, e := range ents {
		if n, ok := strings.CutSuffix(e.Name(), suffix); ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

// archNames lists the supported arches, for messages.
func archNames() []string {
	known := make([]string, 0, len(archs))
	for a := range archs {
		known = append(known, a)
	}
	sort.Strings(known)
	return known
}

// Shipped loads a board that ships with kdumpkit.
func Shipped(name string) (*Board, error) {
	data, err := shipped.ReadFile(name + ".toml")
	if err != nil {
		return nil, fmt.Errorf("board %q: %w (shipped boards: %s; use board:file PATH for your own)",
			name, ErrUnknownBoard, strings.Join(Names(), ", "))
	}
	return Parse("boards/"+name+".toml", data)
}

// Load reads and validates a board file.
func Load(file string) (*Board, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("board file: %w", err)
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return nil, err
	}
	return Parse(abs, data)
}

// Parse decodes and validates board file text; name is used in messages
// and to resolve relative fragment paths. Every refusal is one line that
// starts with name and, where the value is in the text, its line number.
func Parse(name string, data []byte) (*Board, error) {
	var b Board
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&b)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("%s:%d: %s%s: %w", name, errorLine(data, pe), lastKey(pe), oneLine(pe.Message), ErrInvalid)
		}
		return nil, fmt.Errorf("%s: %s: %w", name, oneLine(err.Error()), ErrInvalid)
	}
	if un := md.Undecoded(); len(un) > 0 {
		k := un[0]
		return nil, fmt.Errorf("%s:%d: unknown key %q: %w", name, keyLine(data, k), k.String(), ErrInvalid)
	}
	b.Path = name
	b.defaults()
	if err := b.validate(); err != nil {
		if fe, ok := errorsAsField(err); ok {
			if n := fieldLine(data, fe.Field); n > 0 {
				return nil, fmt.Errorf("%s:%d: %w", name, n, err)
			}
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &b, nil
}

// lastKey names the field a value error is about ("qemu.memory: "), so
// the message says which field as well as which line.
func lastKey(pe toml.ParseError) string {
	if pe.LastKey == "" {
		return ""
	}
	return pe.LastKey + ": "
}

// oneLine keeps a message on one line: the decoder quotes the offending
// text in some messages, and a board's text may hold anything.
func oneLine(s string) string {
	return strings.NewReplacer("\r", `\r`, "\n", `\n`).Replace(s)
}

// errorLine is the line of a TOML syntax error. The decoder's Line is one
// too far when the offending character is the newline itself ("[qemu" with
// no "]"), while its byte offset is right, so the line is counted from that.
func errorLine(data []byte, pe toml.ParseError) int {
	if start := pe.Position.Start; start > 0 && start <= len(data) {
		return 1 + bytes.Count(data[:start], []byte("\n"))
	}
	return pe.Position.Line
}

// keyLine finds the line that defines key k, since the TOML decoder keeps
// key positions to itself; 0 if not found.
func keyLine(data []byte, k toml.Key) int {
	return findLine(data, strings.Join(k[:len(k)-1], "."), -1, k[len(k)-1])
}

// fieldLine finds the line of a FieldError's field: "qemu.memory",
// "kernel.source[1].package" (the second [[kernel.source]]'s package) or
// "kernel.fragments[2]" (the fragments line).
func fieldLine(data []byte, field string) int {
	parts := strings.Split(field, ".")
	index := -1
	for i, p := range parts {
		name, rest, ok := strings.Cut(p, "[")
		if !ok {
			continue
		}
		parts[i] = name
		if i < len(parts)-1 {
			fmt.Sscanf(rest, "%d]", &index)
		}
	}
	return findLine(data, strings.Join(parts[:len(parts)-1], "."), index, parts[len(parts)-1])
}

// findLine scans TOML text for the line that sets leaf in table (in the
// index-th [[table]] when index ≥ 0), tracking [table] and [[array]]
// headers, or for the header of a table named table.leaf. A leaf that is
// not there (a missing url) gets its table's header line; 0 if neither is.
func findLine(data []byte, table string, index int, leaf string) int {
	full := strings.Trim(table+"."+leaf, ".")
	cur, seen, header := "", map[string]int{}, 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, len(data)+1)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") {
			cur = headerName(line)
			seen[cur]++
			if cur == full {
				return n
			}
			if header == 0 && table != "" && cur == table && (index < 0 || seen[cur] == index+1) {
				header = n
			}
			continue
		}
		key, _, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		key = strings.Trim(strings.TrimSpace(key), `"`)
		inTable := cur == table && (index < 0 || seen[cur] == index+1)
		if (inTable && key == leaf) || (index < 0 && strings.Trim(cur+"."+key, ".") == full) {
			return n
		}
	}
	return header
}

// headerName is the table a [table] or [[array]] header line opens.
func headerName(line string) string {
	h := strings.Trim(line, "[] \t")
	if i := strings.IndexByte(h, '#'); i >= 0 {
		h = strings.TrimRight(h[:i], "] \t")
	}
	return h
}

func (b *Board) defaults() {
	if b.QEMU.Binary == "" {
		b.QEMU.Binary = archs[b.Arch].qemu
	}
	if b.QEMU.SMP == 0 {
		b.QEMU.SMP = 1
	}
	if len(b.Kdump.Targets) == 0 {
		b.Kdump.Targets = []string{"9p", "disk"}
	}
	if b.Kdump.Kexec == "" {
		b.Kdump.Kexec = protocol.KexecAuto
	}
	b.netbootDefaults()
	t := &b.Kdump.Timeouts
	for _, d := range []struct {
		p *Duration
		v time.Duration
	}{{&t.Boot, 120 * time.Second}, {&t.Load, 60 * time.Second}, {&t.Panic, 120 * time.Second},
		{&t.Capture, 300 * time.Second}, {&t.Poweroff, 60 * time.Second}} {
		if *d.p == 0 {
			*d.p = Duration(d.v)
		}
	}
}

// Fragment is one kernel config fragment's text and where it came from.
type Fragment struct {
	Name string // as the board names it
	Path string // for messages: boards/fragments/kdump.config or the user's file
	Text []byte
}

// Fragment errors.
var (
	// ErrOutsideBoard means a fragment path leads out of the board file's
	// directory (through "..", an absolute path or a symbolic link).
	ErrOutsideBoard = errors.New("fragment is outside the board file's directory")
	// ErrNotRegular means a fragment is a device, FIFO or directory.
	ErrNotRegular = regularfile.ErrNotRegular
)

// MaxFragmentSize bounds a fragment file: the largest shipped one is under
// 1 KiB and a whole .config is about 200 KiB.
const MaxFragmentSize = 1 << 20

// Fragments resolves the board's fragment names: a bare name is a shipped
// fragment (boards/fragments/NAME.config); a NAME.config path is a file
// in the board file's directory tree. The names are checked again here,
// since Board's fields may have changed since Parse.
func (b *Board) Fragments() ([]Fragment, error) {
	out := make([]Fragment, 0, len(b.Kernel.Fragments))
	for _, name := range b.Kernel.Fragments {
		f, err := b.fragment(name)
		if err != nil {
			return nil, fmt.Errorf("%s: kernel.fragments: %w", b.Path, err)
		}
		out = append(out, f)
	}
	return out, nil
}

func (b *Board) fragment(name string) (Fragment, error) {
	if err := checkFragmentName(name); err != nil {
		return Fragment{}, err
	}
	if !strings.HasSuffix(name, ".config") {
		p := path.Join("fragments", name+".config")
		text, err := shipped.ReadFile(p)
		if err != nil {
			return Fragment{}, fmt.Errorf("%q: no shipped fragment of that name (shipped: %s): %w", name, strings.Join(FragmentNames(), ", "), err)
		}
		return Fragment{Name: name, Path: "boards/" + p, Text: text}, nil
	}
	p, err := insideDir(filepath.Dir(b.Path), name)
	if err != nil {
		return Fragment{}, fmt.Errorf("%q: %w", name, err)
	}
	text, err := regularfile.Read(p, MaxFragmentSize)
	if err != nil {
		return Fragment{}, fmt.Errorf("%q: %w", name, err)
	}
	return Fragment{Name: name, Path: filepath.Join(filepath.Dir(b.Path), name), Text: text}, nil
}

// insideDir resolves rel against dir, following symbolic links, and
// refuses a result outside dir.
func insideDir(dir, rel string) (string, error) {
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", err
	}
	p, err := filepath.EvalSymlinks(filepath.Join(root, rel))
	if err != nil {
		return "", err
	}
	if r, err := filepath.Rel(root, p); err != nil || !filepath.IsLocal(r) {
		return "", fmt.Errorf("%w %s (it resolves to %s)", ErrOutsideBoard, dir, p)
	}
	return p, nil
}
