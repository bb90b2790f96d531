package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kdumpkit/kdumpkit/capture"
	"github.com/kdumpkit/kdumpkit/protocol"

	"github.com/kdumpkit/kdumpkit/internal/testdump"
)

// TestCaptureReferenceDump saves the reference vmcore to a directory
// target as the capture kernel would, and checks the log came along.
func TestCaptureReferenceDump(t *testing.T) {
	vmcore := testdump.Require(t).Vmcore
	dir := t.TempDir()
	var console bytes.Buffer
	if err := run(context.Background(), []string{"-vmcore", vmcore, "-targets", "dir:" + dir}, &console); err != nil {
		t.Fatalf("%v\n%s", err, console.String())
	}
	m, err := capture.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(console.String(), protocol.MarkerSaved+" target=dir:"+dir) || m.Release == "" {
		t.Errorf("console:\n%s\nmanifest %+v", console.String(), m)
	}
	log, _ := os.ReadFile(filepath.Join(dir, capture.DmesgName))
	if !bytes.Contains(log, []byte("Kernel panic - not syncing: sysrq triggered crash")) {
		t.Errorf("dmesg.txt lacks the panic line (%d bytes)", len(log))
	}
}

func TestBadTargetsNamed(t *testing.T) {
	err := run(context.Background(), []string{"-targets", "floppy"}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), `"floppy"`) {
		t.Errorf("err = %v", err)
	}
}
