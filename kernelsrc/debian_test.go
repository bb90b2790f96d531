package kernelsrc

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kdumpkit/kdumpkit/boards"
	"github.com/kdumpkit/kdumpkit/debpkg"
)

// unpackedDebian puts a kernel-shaped tree where an unpacked version of
// pkg lives in cache, as if an earlier run had built from it.
func unpackedDebian(t *testing.T, cache, pkg, version string) {
	t.Helper()
	sub := strings.SplitN(version, "-", 2)[0]
	parts := strings.SplitN(sub, ".", 3)
	mk := "VERSION = " + parts[0] + "\nPATCHLEVEL = " + parts[1] + "\nSUBLEVEL = " + parts[2] + "\n"
	dir := filepath.Join(cache, "kernel-src", debianID(pkg, version))
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "Makefile"), []byte(mk), 0o644)
	os.WriteFile(filepath.Join(dir, "Kconfig"), []byte("mainmenu \"x\"\n"), 0o644)
}

// realCandidate is apt's candidate for linux-source-6.1 on this host, or
// a skip: the tests below use the real package lists.
func realCandidate(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("apt-cache"); err != nil {
		t.Skip("no apt-cache: not a Debian host")
	}
	c, err := debpkg.Candidate(context.Background(), "linux-source-6.1")
	if err != nil || c == "" {
		t.Skipf("apt has no candidate for linux-source-6.1 (%v): run apt-get update on Debian 12", err)
	}
	if v, ok := debpkg.Installed(context.Background(), "linux-source-6.1"); ok {
		t.Skipf("linux-source-6.1 %s is installed: the test wants the .deb path", v)
	}
	return c
}

// TestDebianKeepsTheVersionBuiltBefore is the case with this
// host's real apt lists: the cache holds 6.1.172-1 from an earlier build
// while apt offers a newer one. The old version is kept, the newer one is
// named in one line, kernel:update moves, and a pin holds whatever the
// cache or apt says.
func TestDebianKeepsTheVersionBuiltBefore(t *testing.T) {
	cand := realCandidate(t)
	const old = "6.1.172-1"
	if newer, err := debpkg.Newer(context.Background(), cand, old); err != nil || !newer {
		t.Skipf("apt's candidate %s is not newer than %s (%v)", cand, old, err)
	}
	ctx := context.Background()
	cache := t.TempDir()
	unpackedDebian(t, cache, "linux-source-6.1", old)
	b := board(boards.Source{Kind: "debian", Package: "linux-source-6.1"})

	var log bytes.Buffer
	tree, err := Resolve(ctx, b, cache, &log)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	want := "kernel source: linux-source-6.1 " + cand + " is available; building " + old + " as before; `go run mage.go kernel:update` moves\n"
	if tree.Version != "6.1.172" || tree.Source != "debian package linux-source-6.1 "+old || !strings.Contains(log.String(), want) ||
		strings.Contains(log.String(), "apt-get download") {
		t.Errorf("tree %+v, log:\n%s", tree, log.String())
	}
	if kept, _ := os.ReadFile(keptFile(cache, "linux-source-6.1")); string(kept) != old+"\n" {
		t.Errorf("kept %q", kept)
	}

	// kernel:update moves to the candidate (here already unpacked, so
	// the test downloads nothing) and keeps it from then on.
	unpackedDebian(t, cache, "linux-source-6.1", cand)
	log.Reset()
	moved, err := Update(ctx, b, cache, &log)
	if err != nil || moved.Source != "debian package linux-source-6.1 "+cand || strings.Contains(log.String(), "is available") {
		t.Fatalf("update: %+v, %v\n%s", moved, err, log.String())
	}
	log.Reset()
	if again, err := Resolve(ctx, b, cache, &log); err != nil || again.ID != moved.ID || log.String() != "kernel source: using debian package linux-source-6.1 "+cand+" (Linux "+again.Version+") at "+again.Dir+"\n" {
		t.Errorf("after update: %+v, %v\n%s", again, err, log.String())
	}

	// A pin wins over the kept version, and its line names the pin.
	pinned := board(boards.Source{Kind: "debian", Package: "linux-source-6.1", Version: old})
	log.Reset()
	p, err := Resolve(ctx, pinned, cache, &log)
	if err != nil || p.Version != "6.1.172" ||
		!strings.Contains(log.String(), "linux-source-6.1 "+cand+" is available; building "+old+" as kernel.source[0].version pins\n") {
		t.Errorf("pinned: %+v, %v\n%s", p, err, log.String())
	}
	if kept, _ := os.ReadFile(keptFile(cache, "linux-source-6.1")); string(kept) != cand+"\n" {
		t.Errorf("a pinned board moved the kept version: %q", kept)
	}
}

// TestDebianKeptVersionGone: the version built before is neither in the
// cache nor on the mirror any more (Debian's security archive keeps only
// the last few): the error says so and how to move, and nothing is built
// from another version behind the user's back.
func TestDebianKeptVersionGone(t *testing.T) {
	cand := realCandidate(t)
	if testing.Short() {
		t.Skip("-short: asks apt-get for a version")
	}
	cache := t.TempDir()
	os.MkdirAll(filepath.Join(cache, "kernel-src"), 0o755)
	const gone = "6.1.1-1" // never in bookworm
	os.WriteFile(keptFile(cache, "linux-source-6.1"), []byte(gone+"\n"), 0o644)
	var log bytes.Buffer
	_, err := Resolve(context.Background(), board(boards.Source{Kind: "debian", Package: "linux-source-6.1"}), cache, &log)
	if !errors.Is(err, debpkg.ErrVersionNotAvailable) || !strings.Contains(err.Error(), "linux-source-6.1 "+gone+" (as before)") ||
		!strings.Contains(err.Error(), "`go run mage.go kernel:update` moves to "+cand) || strings.Contains(log.String(), "apt-get update") {
		t.Errorf("err = %v\n%s", err, log.String())
	}
}

func TestKeptVersionFromAnOlderCache(t *testing.T) {
	if _, err := exec.LookPath("dpkg"); err != nil {
		t.Skip("no dpkg: not a Debian host")
	}
	cache := t.TempDir()
	if v := keptVersion(context.Background(), cache, "linux-source-6.1"); v != "" {
		t.Errorf("empty cache: %q", v)
	}
	unpackedDebian(t, cache, "linux-source-6.1", "6.1.90-1")
	unpackedDebian(t, cache, "linux-source-6.1", "6.1.172-1")
	unpackedDebian(t, cache, "linux-source-6.12", "6.12.117-1~deb12u1")
	os.MkdirAll(filepath.Join(cache, "debian", "debs"), 0o755)
	os.WriteFile(filepath.Join(cache, "debian", "debs", "linux-source-6.1_6.1.170-3_all.deb"), nil, 0o644)
	// 6.1.172 sorts after 6.1.90 in Debian's order, not in a string's.
	if v := keptVersion(context.Background(), cache, "linux-source-6.1"); v != "6.1.172-1" {
		t.Errorf("kept %q", v)
	}
	os.WriteFile(filepath.Join(cache, "debian", "debs", "linux-source-6.1_6.1.180-1_all.deb"), nil, 0o644)
	if v := keptVersion(context.Background(), cache, "linux-source-6.1"); v != "6.1.180-1" {
		t.Errorf("kept %q with a newer .deb", v)
	}
}
