package commands

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/kdumpkit/kdumpkit/internal/reference"
)

func referenceDir(t testing.TB) string {
	dir := reference.Dir()
	for _, n := range []string{"vmlinux", "vmcore", "console.log"} {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			t.Skipf("reference dump incomplete (%v); make it with /work/shared/tools/reference-vmcore.sh", err)
		}
	}
	return dir
}

// openReference builds a Session on the reference dump, or skips.
func openReference(t testing.TB) (*Session, string) {
	dir := referenceDir(t)
	img, err := LoadImage(filepath.Join(dir, "vmlinux"), "", 0)
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
func openVmcore(t testing.TB, path string) *Vmcore {
	v, warns, err := OpenVmcore(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range warns {
		t.Errorf("vmcore warning: %v", w)
	}
	t.Cleanup(func() { v.Close() })
	return v
}
