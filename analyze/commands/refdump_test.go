package commands

import (
	"io"
	"path/filepath"
	"testing"

	"github.com/kdumpkit/kdumpkit/analyze/kernel"
	"github.com/kdumpkit/kdumpkit/internal/testdump"
)

// referenceDir is the test dump's directory (package testdump): vmlinux,
// vmcore and console.log of a real vexpress crash.
func referenceDir(t testing.TB) string { return testdump.Require(t).Dir }

// openReference builds a Session on the reference dump, or skips.
func openReference(t testing.TB) (*Session, string) {
	dir := referenceDir(t)
	img, err := kernel.LoadImage(filepath.Join(dir, "vmlinux"), "", 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { img.Close() })
	core := openVmcore(t, filepath.Join(dir, "vmcore"))
	s, err := NewSession(img, core, core.Printk(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return s, dir
}

// openVmcore opens the reference vmcore through the real readers.
func openVmcore(t testing.TB, path string) *kernel.Vmcore {
	v, warns, err := kernel.OpenVmcore(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range warns {
		t.Errorf("vmcore warning: %v", w)
	}
	t.Cleanup(func() { v.Close() })
	return v
}
