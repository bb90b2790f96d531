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

// TestCandidate asks this host's apt for a package it surely knows and
// one it cannot, then checks the cache answers until apt's state moves.
func TestCandidate(t *testing.T) {
	if _, err := exec.LookPath("apt-cache"); err != nil {
		t.Skip("no apt-cache: not a Debian host")
	}
	ctx := context.Background()
	if v, err := Candidate(ctx, "no-such-package-kdumpkit"); err != nil || v != "" {
		t.Errorf("a missing package's candidate %q: %v", v, err)
	}
	file := filepath.Join(t.TempDir(), "dpkg.candidate")
	v, err := CachedCandidate(ctx, "dpkg", file)
	if err != nil || CheckVersion(v) != nil {
		t.Fatalf("dpkg's candidate %q: %v", v, err)
	}
	// While apt's state is the same, the file answers: a value planted
	// under the same key comes back.
	b, _ := os.ReadFile(file)
	key, _, _ := strings.Cut(string(b), "\n")
	os.WriteFile(file, []byte(key+"\n1.0-planted\n"), 0o644)
	if c, _ := CachedCandidate(ctx, "dpkg", file); c != "1.0-planted" {
		t.Errorf("the cache was not used: %q", c)
	}
	os.WriteFile(file, []byte("another apt state\n1.0-planted\n"), 0o644)
	if c, _ := CachedCandidate(ctx, "dpkg", file); c != v {
		t.Errorf("a moved apt state kept the cached answer: %q", c)
	}
}

func TestParseCandidate(t *testing.T) {
	policy := "linux-source-6.1:\n  Installed: (none)\n  Candidate: 6.1.192-2\n  Version table:\n     6.1.192-2 500\n"
	if v := parseCandidate(policy); v != "6.1.192-2" {
		t.Errorf("%q", v)
	}
	for _, p := range []string{"", "x:\n  Installed: (none)\n  Candidate: (none)\n", "  Candidate: --evil\n"} {
		if v := parseCandidate(p); v != "" {
			t.Errorf("%q → %q", p, v)
		}
	}
}

func TestNewer(t *testing.T) {
	if _, err := exec.LookPath("dpkg"); err != nil {
		t.Skip("no dpkg")
	}
	for _, c := range []struct {
		a, b string
		want bool
	}{{"6.1.192-2", "6.1.172-1", true}, {"6.1.172-1", "6.1.192-2", false}, {"6.1.90-1", "6.1.172-1", false}, {"1.0", "1.0~rc1", true}, {"1.0-1", "1.0-1", false}} {
		if got, err := Newer(context.Background(), c.a, c.b); err != nil || got != c.want {
			t.Errorf("Newer(%s, %s) = %v, %v", c.a, c.b, got, err)
		}
	}
	if _, err := Newer(context.Background(), "--help", "1"); !errors.Is(err, ErrBadVersion) {
		t.Errorf("an option as a version: %v", err)
	}
}

// FuzzParseCandidate: whatever apt-cache prints, the candidate is ""
// or a Debian version that cannot reach apt-get or dpkg as an option.
func FuzzParseCandidate(f *testing.F) {
	f.Add("linux-source-6.1:\n  Installed: (none)\n  Candidate: 6.1.192-2\n")
	f.Add("  Candidate: (none)\n")
	f.Add("  Candidate: -x\n")
	f.Fuzz(func(t *testing.T, policy string) {
		v := parseCandidate(policy)
		if v != "" && (CheckVersion(v) != nil || v[0] == '-' || strings.ContainsAny(v, " \t\n/")) {
			t.Fatalf("candidate %q", v)
		}
	})
}
