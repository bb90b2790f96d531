package commands

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/kdumpkit/kdumpkit/analyze/kernel"
	"github.com/kdumpkit/kdumpkit/analyze/symbols"
)

func TestOtherArchVmlinux(t *testing.T) {
	dir := referenceDir(t)
	img, err := kernel.LoadImage("testdata/x86_64-with-symbols.so", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	core := openVmcore(t, filepath.Join(dir, "vmcore"))
	_, err = NewSession(img, core, nil, io.Discard)
	if !errors.Is(err, kernel.ErrMachineMismatch) || !strings.Contains(err.Error(), "EM_ARM") || !strings.Contains(err.Error(), "EM_X86_64") {
		t.Errorf("x86-64 vmlinux on an ARM vmcore: err = %v, want kernel.ErrMachineMismatch naming both", err)
	}
	// Told the dump's machine, LoadImage refuses before reading symbols.
	if _, err := kernel.LoadImage("testdata/x86_64-with-symbols.so", "", core.Machine()); !errors.Is(err, kernel.ErrMachineMismatch) {
		t.Errorf("LoadImage with the dump's machine: err = %v, want kernel.ErrMachineMismatch", err)
	}
}

func TestNotAnELF(t *testing.T) {
	p := filepath.Join(t.TempDir(), "vmlinux")
	if err := os.WriteFile(p, []byte("not an ELF file at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := kernel.LoadImage(p, "", 0); err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("garbage vmlinux: err = %v, want an error naming the file", err)
	}
}

func TestMismatchedBuildID(t *testing.T) {
	dir := referenceDir(t)
	img, err := kernel.LoadImage(filepath.Join(dir, "vmlinux"), "", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	core := openVmcore(t, filepath.Join(dir, "vmcore"))
	core.VMCOREINFO()["BUILD-ID"] = strings.Repeat("ab", 20)
	_, err = NewSession(img, core, nil, io.Discard)
	if !errors.Is(err, symbols.ErrBuildIDMismatch) || !strings.Contains(err.Error(), strings.Repeat("ab", 20)) {
		t.Errorf("mismatched vmlinux: err = %v, want ErrBuildIDMismatch showing both IDs", err)
	}
}

// TestNoDWARF: with symbols only, sys still answers from VMCOREINFO and
// NT_PRSTATUS, and ps says clearly what is missing.
func TestNoDWARF(t *testing.T) {
	dir := referenceDir(t)
	img, err := kernel.LoadImage(filepath.Join(dir, "vmlinux"), "", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	img.Types = nil // as a vmlinux built without CONFIG_DEBUG_INFO
	core := openVmcore(t, filepath.Join(dir, "vmcore"))
	s, err := NewSession(img, core, nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := readConsole(t, dir)
	var out, errw bytes.Buffer
	if err := s.Exec("sys", &out, &errw); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"RELEASE: 6.1", "MACHINE: armv7l", "PID: " + itoa(want.pid), "WARNING: "} {
		if !strings.Contains(out.String(), line) {
			t.Errorf("sys without DWARF lacks %q:\n%s", line, out.String())
		}
	}
	out.Reset()
	errw.Reset()
	_ = s.Exec("ps; bt; struct task_struct", &out, &errw)
	if !strings.Contains(errw.String()+out.String(), "DWARF") {
		t.Errorf("ps/bt without DWARF should say DWARF is missing; got:\n%s%s", out.String(), errw.String())
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
