// Package kernelsrc resolves a board's kernel source tree from its ordered
// source list: a kernel.org tarball (sha256-verified by package downloads)
// or Debian's linux-source-X.Y package, unpacked once into the cache (the
// Debian version kept until the board pins another or Update moves it);
// the developer's own checkout (kind tree), read but never written; or a
// git repository (kind git), cloned into the cache and checked out at a
// branch, tag or commit.
package kernelsrc

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/kdumpkit/kdumpkit/boards"
	"github.com/kdumpkit/kdumpkit/downloads"
)

// ErrNoSource means every source of the board failed.
var ErrNoSource = errors.New("no kernel source worked")

// Tree is an unpacked kernel source tree.
type Tree struct {
	Dir     string // the tree's top (holds Makefile and Kconfig)
	Version string // from the Makefile: "6.1.192"
	// ID is stable across runs and names the object tree. For a tarball
	// or a Debian version it also names the content; for a tree or git
	// source it names the place (the path; the URL and ref), so an edit or
	// a moved branch rebuilds incrementally in the same object tree.
	ID string
	// Rev names the content of a source that changes in place (tree,
	// git): the commit, and for a tree the hash of its diff and untracked
	// files or of its files' sizes and mtimes. "" when ID says it all.
	// It is part of the build's input hash.
	Rev string
	// Dirty is true for a git work tree with uncommitted changes or
	// untracked files; Source then says so.
	Dirty  bool
	Source string // what it came from, for the log and the dump's manifest
}

// Resolve returns the first of b's kernel sources that works, logging one
// line per source that failed and why.
func Resolve(ctx context.Context, b *boards.Board, cacheDir string, log io.Writer) (*Tree, error) {
	return resolve(ctx, b, cacheDir, false, log)
}

// Update is Resolve that moves an unpinned Debian source to apt's
// candidate version (and keeps that one from then on).
func Update(ctx context.Context, b *boards.Board, cacheDir string, log io.Writer) (*Tree, error) {
	return resolve(ctx, b, cacheDir, true, log)
}

func resolve(ctx context.Context, b *boards.Board, cacheDir string, update bool, log io.Writer) (*Tree, error) {
	var errs []error
	for i, s := range b.Kernel.Sources {
		t, err := resolveOne(ctx, b, i, cacheDir, update, log)
		if err == nil {
			err = checkVersion(t, b.Kernel.Version)
		}
		if err != nil {
			fmt.Fprintf(log, "kernel source %d of %d (%s) failed: %v\n", i+1, len(b.Kernel.Sources), describe(s), err)
			errs = append(errs, err)
			continue
		}
		fmt.Fprintf(log, "kernel source: using %s (Linux %s) at %s\n", t.Source, t.Version, t.Dir)
		return t, nil
	}
	return nil, fmt.Errorf("%s: %w: %w", b.Path, ErrNoSource, errors.Join(errs...))
}

func describe(s boards.Source) string {
	switch s.Kind {
	case "debian":
		if s.Version != "" {
			return "debian package " + s.Package + " " + s.Version
		}
		return "debian package " + s.Package
	case "tree":
		return "tree " + s.Path
	case "git":
		ref := s.Ref
		if ref == "" {
			ref = "HEAD"
		}
		return "git " + s.URL + " " + ref
	}
	return s.Kind + " " + s.URL
}

func resolveOne(ctx context.Context, b *boards.Board, i int, cacheDir string, update bool, log io.Writer) (*Tree, error) {
	s := b.Kernel.Sources[i]
	switch s.Kind {
	case "tarball":
		f := &downloads.Fetcher{Dir: filepath.Join(cacheDir, "downloads"), Log: log, Progress: downloads.IsTerminal(os.Stderr)}
		tarball, err := f.Fetch(ctx, downloads.Spec{URL: s.URL, SHA256: s.SHA256, Checksums: s.Checksums})
		if err != nil {
			return nil, err
		}
		sum, err := fileID(tarball)
		if err != nil {
			return nil, err
		}
		return unpack(ctx, tarball, filepath.Join(cacheDir, "kernel-src", "tarball-"+sum), "tarball "+s.URL, log)
	case "debian":
		return fromDebian(ctx, debianSource{pkg: s.Package, version: s.Version, field: fmt.Sprintf("kernel.source[%d]", i)}, cacheDir, update, log)
	case "tree":
		return fromTree(ctx, b.LocalPath(s.Path))
	case "git":
		return fromGit(ctx, gitURL(b, s.URL), s.Ref, cacheDir, log)
	}
	return nil, fmt.Errorf("kind %q cannot supply a kernel", s.Kind)
}

// gitURL resolves a git url that is a local path as the board file's
// paths are; URLs (scheme://…) and scp-like user@host:path pass as they are.
func gitURL(b *boards.Board, u string) string {
	if strings.Contains(u, "://") {
		return u
	}
	if i := strings.IndexByte(u, ':'); i > 0 && !strings.ContainsRune(u[:i], '/') {
		return u
	}
	return b.LocalPath(u)
}

// unpack extracts tarball into dir once: into a temporary sibling that is
// renamed into place, so a corrupt or interrupted tarball leaves nothing
// half-extracted that a later run would trust.
func unpack(ctx context.Context, tarball, dir, source string, log io.Writer) (*Tree, error) {
	if t, err := treeAt(dir, source); err == nil {
		return t, nil
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return nil, err
	}
	os.RemoveAll(dir)
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".unpack-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	fmt.Fprintf(log, "kernel source: unpacking %s\n", tarball)
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "tar", "-xf", tarball, "-C", tmp)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("unpacking %s: %w: %s", tarball, err, firstLine(stderr.String()))
	}
	top, err := topDir(tmp)
	if err != nil {
		return nil, fmt.Errorf("unpacking %s: %w", tarball, err)
	}
	if err := os.Rename(top, dir); err != nil {
		return nil, err
	}
	return treeAt(dir, source)
}

// topDir finds the tree inside an unpacked tarball: its only directory.
func topDir(dir string) (string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	if len(ents) != 1 || !ents[0].IsDir() {
		return "", fmt.Errorf("want one top-level directory, found %d entries", len(ents))
	}
	return filepath.Join(dir, ents[0].Name()), nil
}

func treeAt(dir, source string) (*Tree, error) {
	v, err := MakefileVersion(filepath.Join(dir, "Makefile"))
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(dir, "Kconfig")); err != nil {
		return nil, fmt.Errorf("%s: not a kernel tree: %w", dir, err)
	}
	return &Tree{Dir: dir, Version: v, ID: filepath.Base(dir), Source: source}, nil
}

// MakefileVersion reads VERSION, PATCHLEVEL and SUBLEVEL from a kernel
// Makefile.
func MakefileVersion(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	v := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 0; sc.Scan() && n < 20; n++ {
		k, val, ok := strings.Cut(sc.Text(), "=")
		if ok {
			v[strings.TrimSpace(k)] = strings.TrimSpace(val)
		}
	}
	if v["VERSION"] == "" || v["PATCHLEVEL"] == "" {
		return "", fmt.Errorf("%s: no VERSION/PATCHLEVEL in the first lines: not a kernel Makefile", path)
	}
	s := v["VERSION"] + "." + v["PATCHLEVEL"]
	if v["SUBLEVEL"] != "" {
		s += "." + v["SUBLEVEL"]
	}
	return s, nil
}

// checkVersion refuses a tree of another series than the board asks for.
func checkVersion(t *Tree, want string) error {
	if want == "" || t.Version == want || strings.HasPrefix(t.Version, want+".") {
		return nil
	}
	return fmt.Errorf("tree %s is Linux %s, the board wants %s", t.Dir, t.Version, want)
}

func fileID(path string) (string, error) {
	// The download cache names files by hash prefix; reuse it when there.
	base := filepath.Base(path)
	if i := strings.IndexByte(base, '-'); i == 16 {
		return base[:16], nil
	}
	st, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%x-%d", st.Size(), st.ModTime().Unix()), nil
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == ' ' || r == ':' {
			return '_'
		}
		return r
	}, s)
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
