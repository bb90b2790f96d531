package kernelsrc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/kdumpkit/kdumpkit/debpkg"
)

// UpdateHint is how the user moves a Debian kernel source to apt's
// candidate; the magefile's kernel:update target calls Update.
const UpdateHint = "`go run mage.go kernel:update`"

// fromDebian uses linux-source-X.Y, keeping one version: the board's
// pinned one, else the one built before (recorded in the cache, shared by
// every board and checkout), else — the first time, or when update asks
// to move — the installed package's or apt's candidate. An apt-get update
// that brings a newer version therefore changes nothing but one line
// naming it. The chosen version comes from its unpacked tree in the cache,
// the installed package's /usr/src tarball, or a .deb fetched without root.
func fromDebian(ctx context.Context, s debianSource, cacheDir string, update bool, log io.Writer) (*Tree, error) {
	pkg := s.pkg
	candidate, candErr := debpkg.CachedCandidate(ctx, pkg, filepath.Join(cacheDir, "kernel-src", "debian-"+pkg+".candidate"))
	installed, isInstalled := debpkg.Installed(ctx, pkg)
	why := ""
	want := s.version
	switch {
	case want != "":
		why = "as " + s.field + ".version pins"
	case !update:
		if want = keptVersion(ctx, cacheDir, pkg); want != "" {
			why = "as before"
		}
	}
	if want == "" {
		switch {
		case update && candidate != "":
			want, why = candidate, "apt's candidate, as kernel:update asked"
		case isInstalled:
			want, why = installed, "the installed package"
		case candidate != "":
			want, why = candidate, "apt's candidate"
		default:
			if candErr != nil {
				return nil, candErr
			}
			return nil, fmt.Errorf("apt-get download %s: %w (run `apt-get update` if the lists are stale)", pkg, debpkg.ErrNotAvailable)
		}
	}
	t, err := debianTree(ctx, pkg, want, installed, cacheDir, log)
	if err != nil {
		if s.version == "" && candidate != "" && candidate != want {
			return nil, fmt.Errorf("%s %s (%s): %w; %s moves to %s", pkg, want, why, err, UpdateHint, candidate)
		}
		return nil, fmt.Errorf("%s %s (%s): %w", pkg, want, why, err)
	}
	if s.version == "" {
		if err := keepVersion(cacheDir, pkg, want); err != nil {
			return nil, err
		}
	}
	if candidate != "" && candidate != want {
		if newer, err := debpkg.Newer(ctx, candidate, want); err == nil && newer {
			line := fmt.Sprintf("kernel source: %s %s is available; building %s %s", pkg, candidate, want, why)
			if s.version == "" {
				line += "; " + UpdateHint + " moves"
			}
			fmt.Fprintln(log, line)
		}
	}
	return t, nil
}

// debianSource is what fromDebian needs of a board's source.
type debianSource struct {
	pkg, version string
	field        string // kernel.source[N], for messages
}

// debianTree unpacks pkg's version want: from the cache when it is there
// (no apt at all), else from /usr/src when that version is installed, else
// from its .deb.
func debianTree(ctx context.Context, pkg, want, installed, cacheDir string, log io.Writer) (*Tree, error) {
	dir := filepath.Join(cacheDir, "kernel-src", debianID(pkg, want))
	source := "debian package " + pkg + " " + want
	if t, err := treeAt(dir, source); err == nil {
		return t, nil
	}
	root := "/"
	if installed != want {
		var err error
		root, _, err = debpkg.ExtractVersion(ctx, pkg, want, filepath.Join(cacheDir, "debian"), log)
		if err != nil {
			return nil, err
		}
	}
	series := strings.TrimPrefix(pkg, "linux-source-")
	tarball := filepath.Join(root, "usr/src", "linux-source-"+series+".tar.xz")
	if _, err := os.Stat(tarball); err != nil {
		return nil, fmt.Errorf("package %s %s has no %s: %w", pkg, want, tarball, err)
	}
	return unpack(ctx, tarball, dir, source, log)
}

func debianID(pkg, version string) string { return "debian-" + pkg + "-" + sanitize(version) }

// keptFile records the version of pkg that was built, for the next run.
func keptFile(cacheDir, pkg string) string {
	return filepath.Join(cacheDir, "kernel-src", "debian-"+pkg+".version")
}

// keptVersion is the version of pkg built before: the recorded one, or
// for a cache made before versions were recorded, the newest one the
// cache holds, unpacked or as a .deb.
func keptVersion(ctx context.Context, cacheDir, pkg string) string {
	if b, err := os.ReadFile(keptFile(cacheDir, pkg)); err == nil {
		if v := strings.TrimSpace(string(b)); debpkg.CheckVersion(v) == nil {
			return v
		}
	}
	var found []string
	prefix := "debian-" + pkg + "-"
	ents, _ := os.ReadDir(filepath.Join(cacheDir, "kernel-src"))
	for _, e := range ents {
		// sanitize turned an epoch's ':' into '_': such a name is not
		// the version it came from (the recorded file covers it).
		if v, ok := strings.CutPrefix(e.Name(), prefix); ok && e.IsDir() && !strings.Contains(v, "_") {
			if _, err := treeAt(filepath.Join(cacheDir, "kernel-src", e.Name()), ""); err == nil {
				found = append(found, v)
			}
		}
	}
	debs, _ := filepath.Glob(filepath.Join(cacheDir, "debian", "debs", pkg+"_*_*.deb"))
	for _, d := range debs {
		if parts := strings.Split(strings.TrimSuffix(filepath.Base(d), ".deb"), "_"); len(parts) == 3 {
			found = append(found, strings.ReplaceAll(parts[1], "%3a", ":"))
		}
	}
	best := ""
	for _, v := range found {
		if debpkg.CheckVersion(v) != nil {
			continue
		}
		if best == "" {
			best = v
		} else if newer, err := debpkg.Newer(ctx, v, best); err == nil && newer {
			best = v
		}
	}
	return best
}

func keepVersion(cacheDir, pkg, version string) error {
	p := keptFile(cacheDir, pkg)
	if b, err := os.ReadFile(p); err == nil && strings.TrimSpace(string(b)) == version {
		return nil
	}
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, []byte(version+"\n"), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, p); err != nil {
		return errors.Join(err, os.Remove(tmp))
	}
	return nil
}
