//go:build linux && !arm

package kexec

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestLoadWithFallback: auto falls back to kexec_load only when the
// kernel cannot load through kexec_file_load at all, says why, and
// reports both errors when kexec_load fails too; file and load use one
// call each.
func TestLoadWithFallback(t *testing.T) {
	fileErr := func(errno unix.Errno) func(Options) error {
		return func(Options) error {
			return explain(fmt.Errorf("SYS_kexec_file_load(kernel=k) = %w", errno), nil, fileMeans)
		}
	}
	ok := func(Options) error { return nil }
	segErr := func(Options) error { return errors.New("crash region too small") }
	for _, c := range []struct {
		name          string
		method        Method
		file, segs    func(Options) error
		want          Method
		fallback, err string
	}{
		{"auto, file works", MethodAuto, ok, segErr, MethodFile, "", ""},
		{"auto, no KEXEC_FILE", MethodAuto, fileErr(unix.ENOSYS), ok, MethodLoad, "CONFIG_KEXEC_FILE", ""},
		{"auto, no image loader", MethodAuto, fileErr(unix.ENOEXEC), ok, MethodLoad, "no image loader", ""},
		{"auto, image refused", MethodAuto, fileErr(unix.EINVAL), ok, MethodLoad, "image loader", ""},
		{"auto, not root: no fallback", MethodAuto, fileErr(unix.EPERM), ok, MethodFile, "", "CAP_SYS_BOOT"},
		{"auto, both fail", MethodAuto, fileErr(unix.ENOSYS), segErr, "", "", "CONFIG_KEXEC_FILE (kexec_file_load); then kexec_load: crash region too small"},
		{"file only", MethodFile, fileErr(unix.ENOSYS), ok, MethodFile, "", "function not implemented"},
		{"load only", MethodLoad, ok, segErr, MethodLoad, "", "crash region too small"},
	} {
		l, err := loadWith(Options{Method: c.method}, c.file, c.segs)
		if (err == nil) != (c.err == "") || err != nil && !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s: err %v, want %q", c.name, err, c.err)
		}
		if err == nil && l.Method != c.want {
			t.Errorf("%s: loaded with %s, want %s", c.name, l.Method, c.want)
		}
		if (l.Fallback == nil) != (c.fallback == "") || l.Fallback != nil && !strings.Contains(l.String(), c.fallback) {
			t.Errorf("%s: %q, want a fallback naming %q", c.name, l, c.fallback)
		}
	}
}
