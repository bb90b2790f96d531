package copyfile

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestCopy(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	data := bytes.Repeat([]byte("kdump"), 100000)
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(dst, []byte("an older, longer file that must be truncated........"), 0o644)
	if err := Copy(src, dst); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(dst); !bytes.Equal(got, data) {
		t.Errorf("copy has %d bytes, want %d equal to the source", len(got), len(data))
	}
	if err := Copy(filepath.Join(dir, "missing"), dst); err == nil {
		t.Error("copying a missing file succeeded")
	}
	if err := Copy(src, filepath.Join(dir, "no", "such", "dir")); err == nil {
		t.Error("copying into a missing directory succeeded")
	}
}
