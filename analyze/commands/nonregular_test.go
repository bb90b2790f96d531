package commands

import (
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kdumpkit/kdumpkit/analyze/dump"
	"github.com/kdumpkit/kdumpkit/analyze/kernel"
)

// TestVmlinuxNotRegular: a FIFO given as the vmlinux is refused at once,
// naming the path, instead of blocking the open for ever.
func TestVmlinuxNotRegular(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "vmlinux")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	for _, p := range []string{fifo, t.TempDir()} {
		done := make(chan error, 1)
		go func() {
			img, err := kernel.LoadImage(p, "", 0)
			if err == nil {
				img.Close()
			}
			done <- err
		}()
		select {
		case err := <-done:
			if !errors.Is(err, dump.ErrNotRegular) || !strings.Contains(err.Error(), p) {
				t.Errorf("kernel.LoadImage(%s) = %v, want ErrNotRegular naming the path", p, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("kernel.LoadImage(%s) still blocked after 5s", p)
		}
	}
}
