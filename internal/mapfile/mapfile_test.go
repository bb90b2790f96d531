package mapfile

import (
	"os"
	"path/filepath"
	"testing"
)

func TestMapReadsTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	want := []byte("kdumpkit mapfile test\n")
	if err := os.WriteFile(path, want, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, unmap, err := Map(f, int64(len(want)))
	if err != nil {
		t.Skipf("no mmap here: %v", err)
	}
	if string(b) != string(want) {
		t.Errorf("mapped %q, want %q", b, want)
	}
	if err := unmap(); err != nil {
		t.Error(err)
	}
	if _, _, err := Map(f, 0); err == nil {
		t.Error("an empty mapping was made")
	}
}
