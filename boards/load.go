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
)

//go:embed *.toml fragments/*.config
var shipped embed.FS

// Names lists the shipped boards.
func Names() []string {
	ents, _ := shipped.ReadDir(".")
	var names []string
	for _, e := range ents {
		if n, ok := strings.CutSuffix(e.Name(), ".toml"); ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
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
// and to resolve relative fragment paths.
func Parse(name string, data []byte) (*Board, error) {
	var b Board
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&b)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("%s:%d: %s", name, errorLine(data, pe), pe.Message)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if un := md.Undecoded(); len(un) > 0 {
		k := un[0]
		return nil, fmt.Errorf("%s:%d: unknown key %q: %w", name, keyLine(data, k), k.String(), ErrInvalid)
	}
	b.Path = name
	b.defaults()
	if err := b.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &b, nil
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
// key positions to itself. It tracks [table] and [[array]] headers and
// matches the key's last element inside its table; 0 if not found.
func keyLine(data []byte, k toml.Key) int {
	table, leaf := strings.Join(k[:len(k)-1], "."), k[len(k)-1]
	cur := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") {
			h := strings.Trim(line, "[] \t")
			if i := strings.IndexByte(h, '#'); i >= 0 {
				h = strings.TrimRight(h[:i], "] \t")
			}
			cur = h
			if cur == strings.Join(k, ".") {
				return n
			}
			continue
		}
		key, _, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		key = strings.Trim(strings.TrimSpace(key), `"`)
		if full := strings.Trim(cur+"."+key, "."); full == strings.Join(k, ".") || (cur == table && key == leaf) {
			return n
		}
	}
	return 0
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

func (b *Board) validate() error {
	var missing []string
	for _, f := range []struct{ name, v string }{
		{"name", b.Name}, {"arch", b.Arch}, {"qemu.machine", b.QEMU.Machine},
		{"kernel.version", b.Kernel.Version}, {"kernel.defconfig", b.Kernel.Defconfig},
		{"kernel.image", b.Kernel.Image},
	} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if b.QEMU.Memory == 0 {
		missing = append(missing, "qemu.memory")
	}
	if len(b.Kernel.Sources) == 0 {
		missing = append(missing, "[[kernel.source]]")
	}
	if len(b.Toolchain.Sources) == 0 {
		missing = append(missing, "[[toolchain.source]]")
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing required field(s) %s: %w", strings.Join(missing, ", "), ErrInvalid)
	}
	if _, ok := archs[b.Arch]; !ok {
		known := make([]string, 0, len(archs))
		for a := range archs {
			known = append(known, a)
		}
		sort.Strings(known)
		return fmt.Errorf("arch %q: want one of %s: %w", b.Arch, strings.Join(known, ", "), ErrInvalid)
	}
	if b.QEMU.SMP < 1 {
		return fmt.Errorf("qemu.smp %d: want at least 1: %w", b.QEMU.SMP, ErrInvalid)
	}
	for i, s := range b.Kernel.Sources {
		if err := s.validate(false); err != nil {
			return fmt.Errorf("kernel.source[%d]: %w", i, err)
		}
	}
	for i, s := range b.Toolchain.Sources {
		if err := s.validate(true); err != nil {
			return fmt.Errorf("toolchain.source[%d]: %w", i, err)
		}
	}
	for _, t := range b.Kdump.Targets {
		if !validTarget(t) {
			return fmt.Errorf("kdump.targets: %q: want 9p, disk, dir:/PATH or http://HOST:PORT/: %w", t, ErrInvalid)
		}
	}
	return nil
}

func validTarget(t string) bool {
	return t == "9p" || t == "disk" || strings.HasPrefix(t, "dir:/") ||
		strings.HasPrefix(t, "http://") || strings.HasPrefix(t, "https://")
}

func (s Source) validate(toolchain bool) error {
	switch s.Kind {
	case "tarball":
		if s.URL == "" {
			return fmt.Errorf("kind tarball needs url: %w", ErrInvalid)
		}
		if s.SHA256 == "" && s.Checksums == "" {
			return fmt.Errorf("tarball %s needs sha256 or checksums, since downloads are always verified: %w", s.URL, ErrInvalid)
		}
		if s.SHA256 != "" && !isHex(s.SHA256, 64) {
			return fmt.Errorf("sha256 %q: want 64 hex digits: %w", s.SHA256, ErrInvalid)
		}
	case "path":
		if !toolchain {
			return fmt.Errorf("kind path is for toolchains only: %w", ErrInvalid)
		}
		if s.Prefix == "" {
			return fmt.Errorf("kind path needs prefix (like arm-linux-gnueabihf-): %w", ErrInvalid)
		}
	case "debian":
		if s.Package == "" {
			return fmt.Errorf("kind debian needs package: %w", ErrInvalid)
		}
	default:
		return fmt.Errorf("kind %q: want tarball, path or debian: %w", s.Kind, ErrInvalid)
	}
	return nil
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return false
		}
	}
	return true
}

// Fragment is one kernel config fragment's text and where it came from.
type Fragment struct {
	Name string // as the board names it
	Path string // for messages: boards/fragments/kdump.config or the user's file
	Text []byte
}

// Fragments resolves the board's fragment names: a bare name is a shipped
// fragment (boards/fragments/NAME.config); anything with a slash or a
// .config suffix is a file relative to the board file.
func (b *Board) Fragments() ([]Fragment, error) {
	var out []Fragment
	for _, name := range b.Kernel.Fragments {
		var f Fragment
		var err error
		if strings.ContainsRune(name, '/') || strings.HasSuffix(name, ".config") {
			p := name
			if !filepath.IsAbs(p) {
				p = filepath.Join(filepath.Dir(b.Path), p)
			}
			f = Fragment{Name: name, Path: p}
			f.Text, err = os.ReadFile(p)
		} else {
			p := path.Join("fragments", name+".config")
			f = Fragment{Name: name, Path: "boards/" + p}
			f.Text, err = shipped.ReadFile(p)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: kernel.fragments: %q: %w", b.Path, name, err)
		}
		out = append(out, f)
	}
	return out, nil
}
