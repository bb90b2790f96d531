package commands

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"strings"
	"testing"
	"unicode"

	"github.com/kdumpkit/kdumpkit/analyze/kernel"
	"github.com/kdumpkit/kdumpkit/analyze/symbols"
)

// flatMem is kernel memory from one byte slice at base.
type flatMem struct {
	base uint64
	b    []byte
}

func (m flatMem) ReadVirt(addr uint64, buf []byte) error {
	if addr < m.base || addr-m.base+uint64(len(buf)) > uint64(len(m.b)) {
		return &kernelReadError{addr}
	}
	copy(buf, m.b[addr-m.base:])
	return nil
}

type kernelReadError struct{ addr uint64 }

func (e *kernelReadError) Error() string { return "unreadable" }

// hostile is what any process or driver can put in the dump: a terminal
// escape that clears the screen and retitles the window, a C1 CSI, DEL.
const hostile = "\x1b[2J\x1b]0;pwned\x07\u009b31m\x7fx"

func assertEscaped(t *testing.T, what, out string) {
	t.Helper()
	for _, r := range out {
		if r != '\n' && r != '\t' && !unicode.IsPrint(r) {
			t.Fatalf("%s prints raw %U:\n%q", what, r, out)
		}
	}
	if !strings.Contains(out, `\x1b[2J`) {
		t.Errorf("%s: the escape is not shown as \\x1b text:\n%q", what, out)
	}
}

func TestDumpStringsEscaped(t *testing.T) {
	// utsname at 0x1000: six 65-byte fields, nodename and version hostile.
	mem := flatMem{base: 0x1000, b: make([]byte, 6*65)}
	copy(mem.b[65:], hostile)
	copy(mem.b[3*65:], hostile)
	k := kernel.New(mem, symbols.New(nil), nil, binary.LittleEndian, 4, nil)
	k.VMCOREINFO = map[string]string{"SYMBOL(init_uts_ns)": "1000", "OFFSET(uts_namespace.name)": "0"}
	s := &Session{
		Kernel: k,
		Printk: func() ([]LogRecord, error) {
			return []LogRecord{{Seq: 1, Text: "evil " + hostile}}, nil
		},
	}
	s.Warn = &bytes.Buffer{}
	for _, cmd := range []string{"sys", "log", "log -m"} {
		var out bytes.Buffer
		if err := s.Run(&out, cmd); err != nil {
			t.Fatalf("%s: %v", cmd, err)
		}
		assertEscaped(t, cmd, out.String())
	}
	s.JSON = true
	for _, cmd := range []string{"sys", "log"} {
		var out bytes.Buffer
		if err := s.Run(&out, cmd); err != nil {
			t.Fatalf("%s --json: %v", cmd, err)
		}
		for _, r := range out.String() {
			if r != '\n' && !unicode.IsPrint(r) {
				t.Fatalf("%s --json prints raw %U:\n%q", cmd, r, out.String())
			}
		}
	}
}

func TestPSCommEscaped(t *testing.T) {
	var out bytes.Buffer
	writePS(&out, []PSEntry{{PID: 7, Comm: hostile}})
	assertEscaped(t, "ps", out.String())
}

// TestSysShowsUnverified: sys tags DUMPFILE and --json carries the
// pipeline's reasons.
func TestSysShowsUnverified(t *testing.T) {
	s := &Session{
		Kernel:     kernel.New(flatMem{}, symbols.New(nil), nil, binary.LittleEndian, 4, nil),
		Unverified: []string{"poweroff timed out"},
	}
	var out bytes.Buffer
	if err := s.Run(&out, "sys"); err != nil || !strings.Contains(out.String(), "[UNVERIFIED]") {
		t.Errorf("sys: %v\n%s", err, out.String())
	}
	s.JSON = true
	out.Reset()
	var si SysInfo
	if err := s.Run(&out, "sys"); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(out.Bytes(), &si); err != nil || len(si.Unverified) != 1 || si.Unverified[0] != "poweroff timed out" {
		t.Errorf("sys --json: %v %+v", err, si)
	}
}
