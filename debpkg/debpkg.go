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
	if err := CheckName(pkg); err != nil {
		return "", "", err
	}
	debs := filepath.Join(dir, "debs")
	if err := os.MkdirAll(debs, 0o755); err != nil {
		return "", "", err
	}
	deb, err := download(ctx, pkg, debs, log)
	if errors.Is(err, ErrNotAvailable) && os.Geteuid() == 0 {
		// A fresh machine may never have fetched the package lists.
		fmt.Fprintf(log, "debpkg: %s not in the package lists; apt-get update\n", pkg)
		up := exec.CommandContext(ctx, "apt-get", "update", "-q")
		up.Stdout, up.Stderr = log, log
		up.Run() // a partly failed update (a mirror mid-sync) may still have what we need
		deb, err = download(ctx, pkg, debs, log)
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

// download runs `apt-get download pkg` in dir, reusing a .deb already there.
func download(ctx context.Context, pkg, dir string, log io.Writer) (string, error) {
	if deb := findDeb(dir, pkg); deb != "" {
		return deb, nil
	}
	fmt.Fprintf(log, "debpkg: apt-get download %s\n", pkg)
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "apt-get", "download", "-q", "--", pkg)
	cmd.Dir, cmd.Stderr = dir, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if strings.Contains(msg, "Unable to locate") || strings.Contains(msg, "Can't select") || strings.Contains(msg, "has no installation candidate") {
			return "", fmt.Errorf("apt-get download %s: %w (run `apt-get update` if the lists are stale): %s", pkg, ErrNotAvailable, firstLine(msg))
		}
		return "", fmt.Errorf("apt-get download %s: %w: %s", pkg, err, firstLine(msg))
	}
	if deb := findDeb(dir, pkg); deb != "" {
		return deb, nil
	}
	return "", fmt.Errorf("apt-get download %s: no .deb appeared in %s", pkg, dir)
}

func findDeb(dir, pkg string) string {
	m, _ := filepath.Glob(filepath.Join(dir, pkg+"_*.deb"))
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
