// Package toolchain resolves a board's cross compiler from its ordered
// source list — a Bootlin or Arm GNU tarball, a prefix already on PATH, or
// a Debian gcc-<triple> package — and checks that `gcc -dumpmachine`
// names a target of the board's architecture.
package toolchain

import (
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
	"github.com/kdumpkit/kdumpkit/debpkg"
	"github.com/kdumpkit/kdumpkit/downloads"
	"github.com/kdumpkit/kdumpkit/hostcheck"
)

// Sentinel errors.
var (
	// ErrNoToolchain means every source of the board failed.
	ErrNoToolchain = errors.New("no cross toolchain worked")
	// ErrWrongTarget means a compiler builds for another architecture.
	ErrWrongTarget = errors.New("compiler targets another architecture")
)

// Toolchain is a usable cross compiler.
type Toolchain struct {
	CrossCompile string // the kernel's CROSS_COMPILE, e.g. arm-linux-gnueabihf-
	Bin          string // directory to put first on PATH, or "" when on PATH already
	Target       string // gcc -dumpmachine
	Source       string // what it came from, for the log
}

// Env returns environ with Bin prepended to PATH.
func (t *Toolchain) Env(environ []string) []string {
	if t.Bin == "" {
		return environ
	}
	out := make([]string, 0, len(environ)+1)
	found := false
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			kv, found = "PATH="+t.Bin+string(os.PathListSeparator)+v, true
		}
		out = append(out, kv)
	}
	if !found {
		out = append(out, "PATH="+t.Bin)
	}
	return out
}

// Resolve returns the first of b's toolchain sources that works.
func Resolve(ctx context.Context, b *boards.Board, cacheDir string, log io.Writer) (*Toolchain, error) {
	var errs []error
	for i, s := range b.Toolchain.Sources {
		tc, err := resolveOne(ctx, s, cacheDir, log)
		if err == nil {
			err = tc.check(ctx, b.Arch)
		}
		if err != nil {
			fmt.Fprintf(log, "toolchain source %d of %d (%s) failed: %v\n", i+1, len(b.Toolchain.Sources), describe(s), err)
			errs = append(errs, err)
			continue
		}
		fmt.Fprintf(log, "toolchain: using %s (%sgcc, target %s)\n", tc.Source, tc.CrossCompile, tc.Target)
		return tc, nil
	}
	return nil, fmt.Errorf("%s: %w: %w", b.Path, ErrNoToolchain, errors.Join(errs...))
}

func describe(s boards.Source) string {
	switch s.Kind {
	case "debian":
		return "debian package " + s.Package
	case "path":
		return "PATH prefix " + s.Prefix
	}
	return s.Kind + " " + s.URL
}

func resolveOne(ctx context.Context, s boards.Source, cacheDir string, log io.Writer) (*Toolchain, error) {
	switch s.Kind {
	case "path":
		if _, err := exec.LookPath(s.Prefix + "gcc"); err != nil {
			return nil, fmt.Errorf("%sgcc is not on PATH", s.Prefix)
		}
		return &Toolchain{CrossCompile: s.Prefix, Source: "PATH"}, nil
	case "debian":
		return fromDebian(ctx, s, log)
	case "tarball":
		return fromTarball(ctx, s, cacheDir, log)
	}
	return nil, fmt.Errorf("kind %q cannot supply a toolchain", s.Kind)
}

// fromDebian uses an installed gcc-<triple>, installing it when root. A
// cross gcc unpacked without its dependencies (binutils, cpp, libgcc)
// does not run, so without root the exact apt-get command is the answer.
func fromDebian(ctx context.Context, s boards.Source, log io.Writer) (*Toolchain, error) {
	prefix := s.Prefix
	if prefix == "" {
		prefix = strings.TrimPrefix(s.Package, "gcc-") + "-"
	}
	if _, ok := debpkg.Installed(ctx, s.Package); !ok {
		if os.Geteuid() != 0 {
			return nil, fmt.Errorf("package %s is not installed; install it with: %s", s.Package, hostcheck.InstallCommand([]string{s.Package}))
		}
		if err := hostcheck.AptInstall(ctx, []string{s.Package}, log); err != nil {
			return nil, err
		}
	}
	if _, err := exec.LookPath(prefix + "gcc"); err != nil {
		return nil, fmt.Errorf("package %s is installed but %sgcc is not on PATH", s.Package, prefix)
	}
	return &Toolchain{CrossCompile: prefix, Source: "debian package " + s.Package}, nil
}

// fromTarball downloads and unpacks a prebuilt toolchain once.
func fromTarball(ctx context.Context, s boards.Source, cacheDir string, log io.Writer) (*Toolchain, error) {
	f := &downloads.Fetcher{Dir: filepath.Join(cacheDir, "downloads"), Log: log, Progress: downloads.IsTerminal(os.Stderr)}
	tarball, err := f.Fetch(ctx, downloads.Spec{URL: s.URL, SHA256: s.SHA256, Checksums: s.Checksums})
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(cacheDir, "toolchains", strings.TrimSuffix(filepath.Base(tarball), filepath.Ext(tarball)))
	if _, err := os.Stat(dir); err != nil {
		if err := unpack(ctx, tarball, dir); err != nil {
			return nil, err
		}
	}
	bin, prefix, err := FindGCC(dir, s.Prefix)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.URL, err)
	}
	return &Toolchain{CrossCompile: prefix, Bin: bin, Source: "tarball " + s.URL}, nil
}

func unpack(ctx context.Context, tarball, dir string) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".unpack-")
	if err != nil {
		return err
	}
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "tar", "-xf", tarball, "-C", tmp)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("unpacking %s: %w: %s", tarball, err, strings.TrimSpace(stderr.String()))
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	return nil
}

// FindGCC finds bin/<prefix>gcc under an unpacked toolchain; with no
// prefix given, the one cross gcc there names it.
func FindGCC(dir, prefix string) (bin, foundPrefix string, err error) {
	matches, _ := filepath.Glob(filepath.Join(dir, "*", "bin", prefix+"*gcc"))
	more, _ := filepath.Glob(filepath.Join(dir, "bin", prefix+"*gcc"))
	matches = append(matches, more...)
	for _, m := range matches {
		base := filepath.Base(m)
		if p := strings.TrimSuffix(base, "gcc"); p != "" && strings.HasSuffix(p, "-") && (prefix == "" || p == prefix) {
			return filepath.Dir(m), p, nil
		}
	}
	return "", "", fmt.Errorf("no bin/%sgcc in %s", prefix, dir)
}

// check runs gcc -dumpmachine and matches it against arch.
func (t *Toolchain) check(ctx context.Context, arch string) error {
	gcc := t.CrossCompile + "gcc"
	if t.Bin != "" {
		gcc = filepath.Join(t.Bin, gcc)
	}
	cmd := exec.CommandContext(ctx, gcc, "-dumpmachine")
	cmd.Env = t.Env(os.Environ())
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("%sgcc -dumpmachine: %w", t.CrossCompile, err)
	}
	t.Target = strings.TrimSpace(string(out))
	if !Fits(t.Target, arch) {
		return fmt.Errorf("%sgcc -dumpmachine says %s, the board is %s: %w", t.CrossCompile, t.Target, arch, ErrWrongTarget)
	}
	return nil
}

// Fits reports whether a GNU target triple builds code for a board arch.
func Fits(triple, arch string) bool {
	cpu, _, _ := strings.Cut(triple, "-")
	switch arch {
	case "arm":
		return strings.HasPrefix(cpu, "arm") && !strings.HasPrefix(cpu, "arm64") && strings.Contains(triple, "-linux-gnueabi")
	case "arm64":
		return cpu == "aarch64" || cpu == "arm64"
	case "x86_64":
		return cpu == "x86_64"
	}
	return false
}
