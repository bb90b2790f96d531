package commands

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReferenceTruncated analyses the first 16 MiB of the reference vmcore:
// whatever lies past the cut must come back as errors and warnings, with
// the commands still answering what they can, and never a Go panic.
func TestReferenceTruncated(t *testing.T) {
	dir := referenceDir(t)
	src, err := os.Open(filepath.Join(dir, "vmcore"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	cut := filepath.Join(t.TempDir(), "vmcore")
	dst, err := os.Create(cut)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(dst, src, 16<<20); err != nil {
		t.Fatal(err)
	}
	dst.Close()
	var warn bytes.Buffer
	s, closeFiles, err := Open(filepath.Join(dir, "vmlinux"), cut, "", &warn)
	if err != nil {
		t.Fatal(err)
	}
	defer closeFiles()
	if !strings.Contains(warn.String(), "truncated") {
		t.Errorf("no truncation warning: %q", warn.String())
	}
	var out, errw bytes.Buffer
	_ = s.Exec("sys; ps; bt; bt -a; log; foreach bt; struct task_struct.comm init_task", &out, &errw)
	if strings.Contains(out.String()+errw.String(), "internal error") {
		t.Errorf("a command panicked:\n%s", errw.String())
	}
	if !strings.Contains(out.String(), "[PARTIAL DUMP]") {
		t.Errorf("sys should mark the dump partial:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "RELEASE: 6.1") {
		t.Errorf("sys should still read the utsname in the first 16 MiB:\n%s", out.String())
	}
	if !strings.Contains(errw.String(), "truncated") {
		t.Errorf("the errors should say the dump is truncated:\n%s", errw.String())
	}
}
