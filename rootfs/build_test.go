package rootfs

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
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
	var log bytes.Buffer
	im := &Image{GOARCH: "arm", GOARM: "7", ModuleDir: moduleDir(t), Commands: CaptureCommands, Out: out, Log: &log,
		Files: map[string]string{"/kdump/config": writeTemp(t, "targets=9p\n")}}
	built, err := im.Build(context.Background())
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	st, err := os.Stat(out)
	if err != nil || !built || st.Size() < 1<<20 {
		t.Fatalf("built=%v size=%v err=%v", built, st, err)
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
