package debpkg

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
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

func TestCheckName(t *testing.T) {
	for _, ok := range []string{"hello", "linux-source-6.1", "gcc-arm-linux-gnueabihf", "libstdc++6", "g++", "0ad"} {
		if err := CheckName(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "a", "-q", "--print-uris", "Hello", "linux-*", "a b", "../x", "a/b", "+x", ".x", "x=1", "x\x00"} {
		if err := CheckName(bad); !errors.Is(err, ErrBadName) || !strings.Contains(err.Error(), strconv.Quote(bad)) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// TestOptionAsPackageRunsNothing: a package name apt-get would read as an
// option is refused before any command runs or any file is made.
func TestOptionAsPackageRunsNothing(t *testing.T) {
	dir := t.TempDir()
	var log bytes.Buffer
	_, _, err := Extract(context.Background(), "--print-uris", dir, &log)
	if !errors.Is(err, ErrBadName) {
		t.Errorf("err = %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 || log.Len() != 0 {
		t.Errorf("something ran: dir %v, log %q", ents, log.String())
	}
	if _, ok := Installed(context.Background(), "-h"); ok {
		t.Error("an option is installed")
	}
}

// FuzzCheckName: an accepted name is one apt-get and dpkg can only read as
// a package: no option, pattern, path or space.
func FuzzCheckName(f *testing.F) {
	for _, s := range []string{"hello", "libstdc++6", "-q", "linux-*", "a", "x/y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if err := CheckName(name); err != nil {
			if !strings.Contains(err.Error(), strconv.Quote(name)) {
				t.Fatalf("error %q does not quote the name", err)
			}
			return
		}
		if len(name) < 2 || name[0] == '-' || name[0] == '+' || name[0] == '.' ||
			strings.ContainsAny(name, "*?[]/ \t\n=$\\\x00") || strings.ToLower(name) != name {
			t.Fatalf("accepted %q", name)
		}
	})
}

func TestCheckVersion(t *testing.T) {
	for _, ok := range []string{"6.1.172-1", "6.12.117-1~deb12u1", "1:2.38-1", "12.2.0-14+deb12u1"} {
		if err := CheckVersion(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "-1", "--force", "6.1 x", "6.1/../x", "x1.0", "6.1\n"} {
		if err := CheckVersion(bad); !errors.Is(err, ErrBadVersion) || !strings.Contains(err.Error(), strconv.Quote(bad)) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
