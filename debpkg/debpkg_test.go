package debpkg

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestParseStatus(t *testing.T) {
	for in, want := range map[string]string{
		"install ok installed\t1.2-3":    "1.2-3",
		"deinstall ok config-files\t1.0": "",
		"unknown ok not-installed\t":     "",
		"garbage":                        "",
	} {
		v, ok := parseStatus(in)
		if v != want || ok != (want != "") {
			t.Errorf("%q → %q, %v", in, v, ok)
		}
	}
}

func TestInstalled(t *testing.T) {
	if _, err := exec.LookPath("dpkg-query"); err != nil {
		t.Skip("no dpkg-query: not a Debian host")
	}
	if v, ok := Installed(context.Background(), "dpkg"); !ok || v == "" {
		t.Errorf("dpkg itself: %q, %v", v, ok)
	}
	if _, ok := Installed(context.Background(), "no-such-package-kdumpkit"); ok {
		t.Error("a missing package is installed")
	}
}

// TestExtractReal unpacks a small real package (hello) the way the
// toolchain and kernel sources use big ones.
func TestExtractReal(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: needs Debian's mirror")
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		t.Skip("no apt-get")
	}
	dir := t.TempDir()
	var log bytes.Buffer
	root, version, err := Extract(context.Background(), "hello", dir, &log)
	if errors.Is(err, ErrNotAvailable) {
		t.Skipf("apt lists lack hello: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "usr/bin/hello")); err != nil || version == "" {
		t.Errorf("root %s version %q: %v", root, version, err)
	}
	// A second call reuses the download and the unpacked tree.
	log.Reset()
	if r2, _, err := Extract(context.Background(), "hello", dir, &log); err != nil || r2 != root || log.Len() != 0 {
		t.Errorf("second Extract: %s %v, log %q", r2, err, log.String())
	}
	_, _, err = Extract(context.Background(), "no-such-package-kdumpkit", dir, &log)
	if !errors.Is(err, ErrNotAvailable) {
		t.Errorf("missing package: %v", err)
	}
}
