// Package debpkg obtains a Debian package's files without root: it asks
// dpkg whether the package is installed, and otherwise fetches the .deb
// with `apt-get download` and unpacks it with `dpkg-deb -x` into a cache
// (Debian Policy §3, the binary package format of deb(5)).
package debpkg

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
)

// ErrNotAvailable means apt knows no such package (or its lists are stale).
var ErrNotAvailable = errors.New("package not available from apt")

// ErrVersionNotAvailable means apt knows the package but not the version
// asked for: the mirror dropped it, as Debian's security archive drops
// all but the last few kernel versions.
var ErrVersionNotAvailable = errors.New("version not available from apt")

// Installed reports whether pkg is installed, and its version.
func Installed(ctx context.Context, pkg string) (version string, ok bool) {
	if CheckName(pkg) != nil {
		return "", false
	}
	out, err := exec.CommandContext(ctx, "dpkg-query", "-W", "-f=${Status}\t${Version}", "--", pkg).Output()
	if err != nil {
		return "", false
	}
	return parseStatus(string(out))
}

// parseStatus reads dpkg-query's "install ok installed\tVERSION".
func parseStatus(s string) (string, bool) {
	status, version, ok := strings.Cut(strings.TrimSpace(s), "\t")
	if !ok || !strings.HasSuffix(status, " installed") || strings.Contains(status, "not-installed") {
		return "", false
	}
	return version, true
}

// Extract downloads pkg (unless cached) and unpacks it under dir; it
// returns the unpacked root and the package version. The unpack goes to a
// temporary directory renamed into place, so an interrupted run leaves
// nothing that looks finished.
func Extract(ctx context.Context, pkg, dir string, log io.Writer) (root, version string, err error) {
	return ExtractVersion(ctx, pkg, "", dir, log)
}

// ExtractVersion is Extract of one version of pkg ("" for any: a .deb
// already in the cache, else apt's candidate).
func ExtractVersion(ctx context.Context, pkg, want, dir string, log io.Writer) (root, version string, err error) {
	if err := CheckName(pkg); err != nil {
		return "", "", err
	}
	if want != "" {
		if err := CheckVersion(want); err != nil {
			return "", "", err
		}
	}
	debs := filepath.Join(dir, "debs")
	if err := os.MkdirAll(debs, 0o755); err != nil {
		return "", "", err
	}
	deb, err := download(ctx, pkg, want, debs, log)
	if errors.Is(err, ErrNotAvailable) && os.Geteuid() == 0 {
		// A fresh machine may never have fetched the package lists.
		fmt.Fprintf(log, "debpkg: %s not in the package lists; apt-get update\n", pkg)
		up := exec.CommandContext(ctx, "apt-get", "update", "-q")
		up.Stdout, up.Stderr = log, log
		up.Run() // a partly failed update (a mirror mid-sync) may still have what we need
		deb, err = download(ctx, pkg, want, debs, log)
	}
	if err != nil {
		return "", "", err
	}
	out, err := exec.CommandContext(ctx, "dpkg-deb", "-f", "--", deb, "Version").Output()
	if err != nil {
		return "", "", fmt.Errorf("dpkg-deb -f %s Version: %w", deb, err)
	}
	version = strings.TrimSpace(string(out))
	if !validVersion(version) {
		return "", "", fmt.Errorf("dpkg-deb -f %s Version: %q is not a Debian version", deb, version)
	}
	root = filepath.Join(dir, "root", pkg+"_"+version)
	if _, err := os.Stat(root); err == nil {
		return root, version, nil
	}
	if err := os.MkdirAll(filepath.Dir(root), 0o755); err != nil {
		return "", "", err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(root), ".tmp-")
	if err != nil {
		return "", "", err
	}
	var stderr bytes.Buffer
	x := exec.CommandContext(ctx, "dpkg-deb", "-x", "--", deb, tmp)
	x.Stderr = &stderr
	if err := x.Run(); err != nil {
		os.RemoveAll(tmp)
		return "", "", fmt.Errorf("dpkg-deb -x %s: %w: %s", deb, err, strings.TrimSpace(stderr.String()))
	}
	if err := os.Rename(tmp, root); err != nil {
		os.RemoveAll(tmp)
		return "", "", err
	}
	return root, version, nil
}

// download runs `apt-get download pkg[=version]` in dir, reusing a .deb
// already there.
func download(ctx context.Context, pkg, version, dir string, log io.Writer) (string, error) {
	if deb := findDeb(dir, pkg, version); deb != "" {
		return deb, nil
	}
	arg := pkg
	if version != "" {
		arg += "=" + version
	}
	fmt.Fprintf(log, "debpkg: apt-get download %s\n", arg)
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "apt-get", "download", "-q", "--", arg)
	cmd.Dir, cmd.Stderr = dir, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if version != "" && strings.Contains(msg, "was not found") {
			return "", fmt.Errorf("apt-get download %s: %w (only a cached .deb or tree of it could serve): %s", arg, ErrVersionNotAvailable, firstLine(msg))
		}
		if strings.Contains(msg, "Unable to locate") || strings.Contains(msg, "Can't select") || strings.Contains(msg, "has no installation candidate") {
			return "", fmt.Errorf("apt-get download %s: %w (run `apt-get update` if the lists are stale): %s", arg, ErrNotAvailable, firstLine(msg))
		}
		return "", fmt.Errorf("apt-get download %s: %w: %s", arg, err, firstLine(msg))
	}
	if deb := findDeb(dir, pkg, version); deb != "" {
		return deb, nil
	}
	return "", fmt.Errorf("apt-get download %s: no .deb appeared in %s", arg, dir)
}

// findDeb finds pkg's .deb in dir, of version when not "". A .deb's name
// spells an epoch's ':' as %3a.
func findDeb(dir, pkg, version string) string {
	v := "*"
	if version != "" {
		v = strings.ReplaceAll(version, ":", "%3a")
	}
	m, _ := filepath.Glob(filepath.Join(dir, pkg+"_"+v+"_*.deb"))
	if len(m) == 0 {
		return ""
	}
	return m[len(m)-1]
}

func firstLine(s string) string {
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			return l
		}
	}
	return s
}

// ErrBadName means a string is not a Debian package name.
var ErrBadName = errors.New("not a Debian package name")

// CheckName accepts a Debian package name (Debian Policy §5.6.1: lower-case
// letters, digits, '+', '-' and '.', at least two characters, starting
// with a letter or digit), so no name can reach apt-get or dpkg as an
// option or a pattern.
func CheckName(name string) error {
	if len(name) < 2 || !isLowerAlnum(name[0]) {
		return fmt.Errorf("%q: %w (want lower-case letters, digits, '+', '-' and '.', starting with a letter or digit)", name, ErrBadName)
	}
	for i := 1; i < len(name); i++ {
		if c := name[i]; !isLowerAlnum(c) && c != '+' && c != '-' && c != '.' {
			return fmt.Errorf("%q: %w (want lower-case letters, digits, '+', '-' and '.', starting with a letter or digit)", name, ErrBadName)
		}
	}
	return nil
}

func isLowerAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

// ErrBadVersion means a string is not a Debian version.
var ErrBadVersion = errors.New("not a Debian version")

// CheckVersion accepts a Debian version that starts with a digit (an
// upstream version does, Debian Policy §5.6.12), such as 6.1.172-1.
func CheckVersion(v string) error {
	if !validVersion(v) || v[0] < '0' || v[0] > '9' {
		return fmt.Errorf("%q: %w (want digits, letters, '.', '+', '-', '~' and ':', starting with a digit, such as 6.1.172-1)", v, ErrBadVersion)
	}
	return nil
}

// validVersion accepts a Debian version (Debian Policy §5.6.12: digits,
// letters, '.', '+', '-', '~' and an epoch's ':'), since it becomes part of
// a directory name.
func validVersion(v string) bool {
	if v == "" {
		return false
	}
	for _, c := range []byte(v) {
		if !isLowerAlnum(c) && !(c >= 'A' && c <= 'Z') && !strings.ContainsRune(".+-~:", rune(c)) {
			return false
		}
	}
	return true
}

// Candidate is the version apt would install of pkg ("" when none),
// from the local package lists (`apt-cache policy`): no network.
func Candidate(ctx context.Context, pkg string) (string, error) {
	if err := CheckName(pkg); err != nil {
		return "", err
	}
	out, err := exec.CommandContext(ctx, "apt-cache", "policy", "--", pkg).Output()
	if err != nil {
		return "", fmt.Errorf("apt-cache policy %s: %w", pkg, err)
	}
	return parseCandidate(string(out)), nil
}

// aptState is what apt's candidate depends on: the package lists (apt-get
// update renames new ones into the directory), what is installed and the
// pins. apt-cache rebuilds its cache on every call where, as in Debian's
// container images, the binary cache is off (1.4 s of CPU here), so
// CachedCandidate asks only when one of these moved.
var aptState = []string{"/var/lib/apt/lists", "/var/lib/dpkg/status", "/etc/apt/preferences", "/etc/apt/preferences.d", "/etc/apt/sources.list", "/etc/apt/sources.list.d"}

// CachedCandidate is Candidate, remembered in file until apt's lists,
// the installed packages or the pins change.
func CachedCandidate(ctx context.Context, pkg, file string) (string, error) {
	var key strings.Builder
	for _, p := range aptState {
		if st, err := os.Stat(p); err == nil {
			fmt.Fprintf(&key, "%s %d %d;", p, st.ModTime().UnixNano(), st.Size())
		}
	}
	if b, err := os.ReadFile(file); err == nil {
		if k, v, ok := strings.Cut(string(b), "\n"); ok && k == key.String() {
			if v = strings.TrimSpace(v); v == "" || CheckVersion(v) == nil {
				return v, nil
			}
		}
	}
	v, err := Candidate(ctx, pkg)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err == nil {
		tmp := file + ".tmp"
		if os.WriteFile(tmp, []byte(key.String()+"\n"+v+"\n"), 0o644) == nil {
			os.Rename(tmp, file)
		}
	}
	return v, nil
}

// parseCandidate reads the "Candidate:" line of apt-cache policy.
func parseCandidate(policy string) string {
	sc := bufio.NewScanner(strings.NewReader(policy))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "Candidate:"); ok {
			v = strings.TrimSpace(v)
			if v == "(none)" || CheckVersion(v) != nil {
				return ""
			}
			return v
		}
	}
	return ""
}

// Newer reports whether version a sorts after b in Debian's order
// (`dpkg --compare-versions a gt b`: 6.1.192-2 after 6.1.172-1, 1.0 after
// 1.0~rc1).
func Newer(ctx context.Context, a, b string) (bool, error) {
	for _, v := range []string{a, b} {
		if err := CheckVersion(v); err != nil {
			return false, err
		}
	}
	err := exec.CommandContext(ctx, "dpkg", "--compare-versions", "--", a, "gt", b).Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &ee) && ee.ExitCode() == 1:
		return false, nil
	}
	return false, fmt.Errorf("dpkg --compare-versions %s gt %s: %w", a, b, err)
}
