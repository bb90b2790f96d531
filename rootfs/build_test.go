package rootfs

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/kdumpkit/kdumpkit/internal/syncbuf"
)

func moduleDir(t *testing.T) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(file))
}

// TestCaptureImageBuilds builds the real GOARCH=arm capture initramfs
// (about a minute cold: the standard library is compiled for arm) and
// checks a second build is skipped.
func TestCaptureImageBuilds(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: compiles a busybox for arm")
	}
	out := filepath.Join(t.TempDir(), "capture.cpio.gz")
	var log syncbuf.Buffer
	im := &Image{GOARCH: "arm", GOARM: "7", ModuleDir: moduleDir(t), Commands: CaptureCommands, Out: out, Log: &log,
		Files: map[string]string{"/kdump/config": writeTemp(t, "targets=9p\n")}, Every: 100 * time.Millisecond}
	built, err := im.Build(context.Background())
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	st, err := os.Stat(out)
	if err != nil || !built || st.Size() < 1<<20 {
		t.Fatalf("built=%v size=%v err=%v", built, st, err)
	}
	// A build of a second or more says what it builds and that it goes on.
	if !strings.Contains(log.String(), "rootfs: building "+out+": ") || !strings.Contains(log.String(), "rootfs: capture.cpio.gz: still building, ") {
		t.Errorf("log:\n%s", log.String())
	}
	if built, err := im.Build(context.Background()); err != nil || built {
		t.Errorf("second build: built=%v err=%v", built, err)
	}
}

func writeTemp(t *testing.T, s string) string {
	p := filepath.Join(t.TempDir(), "f")
	os.WriteFile(p, []byte(s), 0o644)
	return p
}
