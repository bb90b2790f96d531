package main

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kdumpkit/kdumpkit/analyze/dump/dumptest"
)

// runFor runs kdumpkit with args, failing the test if it has not
// returned within 10 s (a FIFO used to block the open for ever).
func runFor(t *testing.T, args ...string) (status int, stdout, stderr string) {
	t.Helper()
	var out, errw bytes.Buffer
	done := make(chan int, 1)
	go func() { done <- run(args, io.NopCloser(strings.NewReader("")), &out, &errw) }()
	select {
	case status = <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("kdumpkit %q still running after 10s", args)
	}
	return status, out.String(), errw.String()
}

func TestFIFORefused(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	vmcore := writeVmcore(t, dir)
	for _, args := range [][]string{{"dmesg", fifo}, {"analyze", "-c", "sys", "-", fifo}, {"analyze", "-c", "sys", fifo, vmcore}} {
		status, _, stderr := runFor(t, args...)
		if status != 1 || !strings.Contains(stderr, fifo+": not a regular file") {
			t.Errorf("kdumpkit %q: status %d, stderr %q; want the FIFO refused by name", args, status, stderr)
		}
	}
}

// TestDmesgShowsUnverified: the pipeline's UNVERIFIED marker is shown on
// stderr before anything else is read.
func TestDmesgShowsUnverified(t *testing.T) {
	dir := t.TempDir()
	vmcore := writeVmcore(t, dir)
	if err := os.WriteFile(filepath.Join(dir, "UNVERIFIED"), []byte("QEMU did not exit after POWER OFF\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, stderr := runFor(t, "dmesg", vmcore)
	if want := "WARNING: " + dir + " is unverified: QEMU did not exit after POWER OFF\n"; !strings.Contains(stderr, want) {
		t.Errorf("stderr %q, want %q", stderr, want)
	}
}

// writeVmcore writes a small ARM32 vmcore (no printk ring) into dir.
func writeVmcore(t *testing.T, dir string) string {
	t.Helper()
	c := &dumptest.Core{Class: elf.ELFCLASS32, ByteOrder: binary.LittleEndian, Machine: elf.EM_ARM,
		Notes: []dumptest.Note{{Name: "VMCOREINFO", Desc: []byte("OSRELEASE=6.1.0\nPAGESIZE=4096\nSYMBOL(swapper_pg_dir)=80004000\n")}},
		Loads: []dumptest.Load{{Paddr: 0x60000000, Vaddr: 0x80000000, Data: make([]byte, 64<<10)}}}
	p := filepath.Join(dir, "vmcore")
	if err := os.WriteFile(p, c.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
