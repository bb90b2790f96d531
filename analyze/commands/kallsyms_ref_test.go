package commands

import (
	"bytes"
	"encoding/binary"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kdumpkit/kdumpkit/analyze/kernel"
	"github.com/kdumpkit/kdumpkit/analyze/symbols"
)

// TestReferenceKallsyms rebuilds the symbol table from the dump alone and
// checks it against the vmlinux symtab.
func TestReferenceKallsyms(t *testing.T) {
	s, dir := openReference(t)
	core := openVmcore(t, filepath.Join(dir, "vmcore"))
	ks, err := symbols.FromKallsyms(core, core.VMCOREINFO(), binary.LittleEndian, 4)
	if err != nil {
		t.Fatal(err)
	}
	if ks.Len() < 10000 {
		t.Errorf("only %d kallsyms", ks.Len())
	}
	for _, name := range []string{"panic", "sysrq_handle_crash", "vfs_write", "__crash_kexec", "ret_fast_syscall"} {
		want, err := s.Kernel.Syms.Addr(name)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := ks.Addr(name); err != nil || got != want {
			t.Errorf("%s: kallsyms %#x (%v), vmlinux %#x", name, got, err, want)
		}
	}
}

func TestReferenceWithoutVmlinux(t *testing.T) {
	dir := referenceDir(t)
	core := openVmcore(t, filepath.Join(dir, "vmcore"))
	img, err := kernel.KallsymsImage(core)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSession(img, core, nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var out, errw bytes.Buffer
	_ = s.Exec("sys; sym panic; ps", &out, &errw)
	for _, want := range []string{"RELEASE: 6.1", "(T) panic"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("without vmlinux, output lacks %q:\n%s", want, out.String())
		}
	}
	if !strings.Contains(errw.String(), "ps: ") {
		t.Errorf("ps without vmlinux should fail saying what it lacks:\n%s%s", out.String(), errw.String())
	}
}
