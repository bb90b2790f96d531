package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kdumpkit/kdumpkit/analyze/dump"
	"github.com/kdumpkit/kdumpkit/analyze/printk"
	"github.com/kdumpkit/kdumpkit/capture"
	"github.com/kdumpkit/kdumpkit/internal/testdump"
)

// TestCaptureCompressedReferenceDump saves the reference vmcore with
// -format kdump as the capture kernel would: the file is the level-31
// dump, a fraction of the ELF, and its kernel log is the ELF's.
func TestCaptureCompressedReferenceDump(t *testing.T) {
	vmcore := testdump.Require(t).Vmcore
	dir := t.TempDir()
	var console bytes.Buffer
	if err := run(context.Background(), []string{"-vmcore", vmcore, "-targets", "dir:" + dir, "-format", "kdump"}, &console); err != nil {
		t.Fatalf("%v\n%s", err, console.String())
	}
	t.Log(console.String())
	m, err := capture.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := m.File(capture.VmcoreName)
	st, _ := os.Stat(vmcore)
	if m.Format != capture.FormatKdump || m.Detail != "dump level 31, zstd" || f.Size*10 > st.Size() {
		t.Errorf("manifest %+v: want a kdump-compressed vmcore at least 10x smaller than the ELF's %d bytes", m, st.Size())
	}
	if !strings.Contains(console.String(), "capture: kdump-compressed, level 31, zstd: ") || !strings.Contains(console.String(), "MB/s of RAM") {
		t.Errorf("console:\n%s", console.String())
	}
	e, err := dump.Open(vmcore)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	k, err := dump.Open(filepath.Join(dir, capture.VmcoreName))
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	a, err1 := printk.ReadDump(e)
	b, err2 := printk.ReadDump(k)
	if err1 != nil || err2 != nil || len(a.Records) != len(b.Records) || len(a.Records) == 0 {
		t.Errorf("log: %v %v", err1, err2)
	}
}
