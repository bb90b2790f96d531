package kbuild

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kdumpkit/kdumpkit/boards"
	"github.com/kdumpkit/kdumpkit/kernelcfg"
	"github.com/kdumpkit/kdumpkit/kernelsrc"
	"github.com/kdumpkit/kdumpkit/toolchain"
)

// ErrConfig means fragment symbols did not survive olddefconfig.
var ErrConfig = errors.New("kernel config did not take the fragments")

// stampVersion changes when this package builds differently, so caches
// made by an older kdumpkit are rebuilt.
const stampVersion = "kbuild-1"

// Build is what to build.
type Build struct {
	Board     *boards.Board
	Tree      *kernelsrc.Tree
	Toolchain *toolchain.Toolchain
	CacheDir  string    // $XDG_CACHE_HOME/kdumpkit
	OutDir    string    // build/<board>: artifacts are collected here
	Log       io.Writer // progress lines
	MakeLog   io.Writer // make's own output (nil: only into the object tree's build.log)
	Jobs      int       // 0: runtime.NumCPU()
	// Bar, a terminal, gets a progress bar of the objects compiled;
	// without one (or with MakeLog) Log gets a line every ProgressEvery
	// (0: 30 s) instead.
	Bar           io.Writer
	ProgressEvery time.Duration
}

// Artifacts are the collected outputs.
type Artifacts struct {
	Image, DTB, Vmlinux, Config, SystemMap string
	ObjDir                                 string
	Built                                  bool // false when the cache was up to date
	// FromScratch is true when the object tree was empty: a cold
	// build, not one that only redid what an input change touched.
	FromScratch bool
	Duration    time.Duration
}

// ObjDir is the board's object tree in the cache.
func (b *Build) ObjDir() string {
	return filepath.Join(b.CacheDir, "kbuild", b.Board.Arch+"-"+b.kernelKey()+"-"+b.Tree.ID)
}

// kernelKey names what decides the kernel apart from its source: the
// defconfig, image, device tree and fragments, by name (a user's fragment
// by its path). Not the board: boards that build the same kernel (arm64
// and arm64-uboot) share one object tree. Not the fragments' text: an
// edited fragment is an incremental rebuild in the same tree, since the
// stamp holds the text.
func (b *Build) kernelKey() string {
	k := b.Board.Kernel
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%s\n", k.Defconfig, k.Image, k.DTB)
	fs, _ := b.Board.Fragments() // unreadable fragments fail later, in configure
	for _, f := range fs {
		fmt.Fprintf(h, "%s\n", f.Path)
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// adoptLegacy renames the object tree kdumpkit named by board before
// (BOARD-TREEID) to obj, so an existing cache stays warm. It holds both
// locks: a build still running under the old name keeps its tree.
func (b *Build) adoptLegacy(obj string) {
	legacy := filepath.Join(b.CacheDir, "kbuild", b.Board.Name+"-"+b.Tree.ID)
	if _, err := os.Stat(obj); err == nil || legacy == obj {
		return
	}
	if _, err := os.Stat(legacy); err != nil {
		return
	}
	unlock, err := lockDir(legacy)
	if err != nil {
		return
	}
	defer unlock()
	if err := os.Rename(legacy, obj); err == nil {
		fmt.Fprintf(b.Log, "kernel: object tree %s is now %s (named by the kernel it builds, shared by boards that build the same)\n", legacy, obj)
	}
}

// Stamp files in the object tree: each holds the hash of every input, so a
// matching one means that step has nothing to do.
const (
	configStampFile = ".kdumpkit-config-stamp"
	buildStampFile  = ".kdumpkit-stamp"
)

// Configure makes the verified .config (defconfig, fragments merged,
// olddefconfig, every fragment symbol checked) unless one made from the
// same inputs is already there, and collects it as OutDir/config.
func (b *Build) Configure(ctx context.Context) (string, error) {
	frags, err := b.fragments()
	if err != nil {
		return "", err
	}
	obj := b.ObjDir()
	unlock, err := lockDir(obj)
	if err != nil {
		return "", err
	}
	defer unlock()
	b.adoptLegacy(obj)
	cstamp, err := b.configStamp(frags)
	if err != nil {
		return "", err
	}
	if err := b.configureOnce(ctx, obj, frags, cstamp); err != nil {
		return "", err
	}
	a, err := collect(&Artifacts{Config: filepath.Join(obj, ".config")}, b.OutDir)
	if err != nil {
		return "", err
	}
	return a.Config, nil
}

func (b *Build) configureOnce(ctx context.Context, obj string, frags []*kernelcfg.Config, stamp string) error {
	stampPath := filepath.Join(obj, configStampFile)
	if old, err := os.ReadFile(stampPath); err == nil && string(old) == stamp && fileExists(filepath.Join(obj, ".config")) {
		fmt.Fprintf(b.Log, "kernel: config is up to date (same source, toolchain, defconfig and fragments); skipped defconfig and olddefconfig\n")
		return nil
	}
	if err := b.configure(ctx, obj, frags); err != nil {
		return err
	}
	return os.WriteFile(stampPath, []byte(stamp), 0o644)
}

// Run configures and builds when an input changed, and collects the
// artifacts in OutDir.
func (b *Build) Run(ctx context.Context) (*Artifacts, error) {
	start := time.Now()
	frags, err := b.fragments()
	if err != nil {
		return nil, err
	}
	obj := b.ObjDir()
	unlock, err := lockDir(obj)
	if err != nil {
		return nil, err
	}
	defer unlock()
	b.adoptLegacy(obj)
	stamp := b.stamp(frags)
	stampPath := filepath.Join(obj, buildStampFile)
	a := b.artifactsIn(obj)
	a.FromScratch = !fileExists(filepath.Join(obj, "vmlinux"))
	fmt.Fprintf(b.Log, "kernel: Linux %s from %s, compiled by %sgcc from %s (target %s)\n",
		b.Tree.Version, b.Tree.Source, b.Toolchain.CrossCompile, b.Toolchain.Source, b.Toolchain.Target)
	if old, err := os.ReadFile(stampPath); err == nil && string(old) == stamp && a.exist() {
		fmt.Fprintf(b.Log, "kernel: %s is up to date (same source, toolchain, config and fragments); no make\n", obj)
	} else {
		cstamp, err := b.configStamp(frags)
		if err != nil {
			return nil, err
		}
		if err := b.configureOnce(ctx, obj, frags, cstamp); err != nil {
			return nil, err
		}
		if err := b.compile(ctx, obj); err != nil {
			return nil, err
		}
		if !a.exist() {
			return nil, fmt.Errorf("make finished but %s lacks an artifact: %+v", obj, a)
		}
		if err := os.WriteFile(stampPath, []byte(stamp), 0o644); err != nil {
			return nil, err
		}
		a.Built = true
	}
	out, err := collect(a, b.OutDir)
	if err != nil {
		return nil, err
	}
	out.Built, out.FromScratch, out.ObjDir, out.Duration = a.Built, a.Built && a.FromScratch, obj, time.Since(start)
	return out, nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func (b *Build) fragments() ([]*kernelcfg.Config, error) {
	fs, err := b.Board.Fragments()
	if err != nil {
		return nil, err
	}
	var out []*kernelcfg.Config
	for _, f := range fs {
		c, err := kernelcfg.Parse(f.Path, bytes.NewReader(f.Text))
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// stamp hashes every input of the build.
func (b *Build) stamp(frags []*kernelcfg.Config) string { return b.stampOf(frags, b.Tree.Rev) }

// stampOf is stamp with the tree's content named by rev.
func (b *Build) stampOf(frags []*kernelcfg.Config, rev string) string {
	h := sha256.New()
	k := b.Board.Kernel
	fmt.Fprintf(h, "%s\n%s\n%s %s\n%s\n%s\n%s\n%s\n", stampVersion, b.Tree.ID, b.Toolchain.CrossCompile, b.Toolchain.Target,
		k.Defconfig, k.Image, k.DTB, b.Board.KernelArch())
	if rev != "" {
		// A tree or git source changes under one ID (one object tree);
		// only sources that do add a line, so the stamps of tarball and
		// Debian builds made before stay valid.
		fmt.Fprintf(h, "rev %s\n", rev)
	}
	for _, f := range frags {
		f.WriteTo(h)
	}
	return hex.EncodeToString(h.Sum(nil)) + "\n"
}

// configStamp hashes configure's inputs. For a tarball or Debian source
// it is the build's stamp; for a source that changes in place (tree,
// git) the tree's Kconfig files and config directories stand for its
// content, since an edited .c changes nothing that defconfig and
// olddefconfig read (they took 17 s of a 40 s rebuild after one edit).
func (b *Build) configStamp(frags []*kernelcfg.Config) (string, error) {
	if b.Tree.Rev == "" {
		return b.stamp(frags), nil
	}
	base := b.stampOf(frags, "")
	k, err := kconfigHash(b.Tree.Dir, b.Board.KernelSrcArch())
	if err != nil {
		return "", err
	}
	return base + "kconfig " + k + "\n", nil
}

// kconfigHash hashes what configuring a tree reads: every Kconfig* file,
// the defconfigs and config fragments (arch/ARCH/configs, kernel/configs)
// and Kconfig's own programs (scripts/kconfig). A walk of a 6.1 tree
// reads about 1,700 files, 3 MB.
func kconfigHash(dir, srcArch string) (string, error) {
	h := sha256.New()
	dirs := []string{filepath.Join("arch", srcArch, "configs"), filepath.Join("kernel", "configs"), filepath.Join("scripts", "kconfig")}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".git" {
				return filepath.SkipDir
			}
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		in := strings.HasPrefix(d.Name(), "Kconfig")
		for _, c := range dirs {
			in = in || strings.HasPrefix(rel, c+string(filepath.Separator))
		}
		if !in || !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s %d\n", rel, len(data))
		h.Write(data)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("hashing the Kconfig files of %s: %w", dir, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// configure makes .config: defconfig, fragments merged, olddefconfig,
// then every fragment symbol verified.
func (b *Build) configure(ctx context.Context, obj string, frags []*kernelcfg.Config) error {
	kc, err := kernelcfg.ScanKconfig(b.Tree.Dir, b.Board.KernelSrcArch())
	if err != nil {
		return err
	}
	if err := kernelcfg.CheckKnown(kc, frags...); err != nil {
		return err
	}
	// From here on .config changes: neither the config nor the build
	// stamp may vouch for the object tree until this configure and the
	// make after it succeed. A fragment that failed the checks above
	// leaves both, and the tree, as they were.
	if err := os.MkdirAll(obj, 0o755); err != nil {
		return err
	}
	for _, f := range []string{configStampFile, buildStampFile} {
		if err := os.Remove(filepath.Join(obj, f)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	fmt.Fprintf(b.Log, "kernel: %s + %s\n", b.Board.Kernel.Defconfig, strings.Join(b.Board.Kernel.Fragments, ", "))
	if err := b.make(ctx, obj, b.Board.Kernel.Defconfig); err != nil {
		return err
	}
	cfgPath := filepath.Join(obj, ".config")
	cfg, err := readConfig(cfgPath)
	if err != nil {
		return err
	}
	for _, f := range frags {
		cfg.Merge(f)
	}
	var buf bytes.Buffer
	cfg.WriteTo(&buf)
	if err := os.WriteFile(cfgPath, buf.Bytes(), 0o644); err != nil {
		return err
	}
	if err := b.make(ctx, obj, "olddefconfig"); err != nil {
		return err
	}
	final, err := readConfig(cfgPath)
	if err != nil {
		return err
	}
	if ms := kernelcfg.Verify(final, kc, frags...); len(ms) > 0 {
		var lines []string
		for _, m := range ms {
			lines = append(lines, m.String())
		}
		return fmt.Errorf("%w: %d symbol(s):\n  %s", ErrConfig, len(ms), strings.Join(lines, "\n  "))
	}
	n := 0
	for _, f := range frags {
		n += len(f.Entries())
	}
	fmt.Fprintf(b.Log, "kernel: config verified: all %d fragment symbols have the requested values\n", n)
	return nil
}

func readConfig(path string) (*kernelcfg.Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return kernelcfg.Parse(path, f)
}

func (b *Build) compile(ctx context.Context, obj string) error {
	targets := []string{b.Board.Kernel.Image, "vmlinux"}
	if dtb := b.Board.Kernel.DTB; dtb != "" {
		targets = append(targets, dtbTarget(b.Tree.Dir, b.Board.KernelSrcArch(), dtb))
	}
	cold := !fileExists(filepath.Join(obj, "vmlinux"))
	total, estimate, kind := 0, false, "incremental: only what changed"
	if cold {
		total, estimate = expectedObjects(obj, b.boardObjectsFile(), filepath.Join(obj, ".config"))
		kind = fmt.Sprintf("cold: %d objects expected, several minutes", total)
		if estimate {
			kind = fmt.Sprintf("cold: about %d objects by the .config, several minutes", total)
		}
	}
	fmt.Fprintf(b.Log, "kernel: make -j%d %s in %s (%s)\n", b.jobs(), strings.Join(targets, " "), obj, kind)
	bar := b.Bar
	if b.MakeLog != nil {
		bar = io.Discard // make's own output is streaming: no bar, no lines
	}
	t := time.Now()
	p := newProgress(total, estimate, bar, b.Log, b.ProgressEvery)
	err := b.makeWith(ctx, obj, p, targets...)
	n := p.finish()
	if err != nil {
		return err
	}
	fmt.Fprintf(b.Log, "kernel: built in %s (%d objects compiled)\n", time.Since(t).Round(time.Second), n)
	if cold {
		recordObjects(n, filepath.Join(obj, objectsFile), b.boardObjectsFile())
	}
	return nil
}

// boardObjectsFile records the board's last cold build's object count,
// beside the object trees, for a cold build from another source version.
func (b *Build) boardObjectsFile() string {
	return filepath.Join(b.CacheDir, "kbuild", b.Board.Name+".objects")
}

// dtbTarget is the make target for a device tree: its path under
// arch/<arch>/boot/dts (vendor subdirectories since 6.5), without it.
func dtbTarget(src, srcArch, dtb string) string {
	dts := strings.TrimSuffix(dtb, ".dtb") + ".dts"
	root := filepath.Join(src, "arch", srcArch, "boot", "dts")
	var found string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() == dts {
			found, _ = filepath.Rel(root, p)
			return filepath.SkipAll
		}
		return nil
	})
	if found == "" {
		return dtb
	}
	return strings.TrimSuffix(found, ".dts") + ".dtb"
}

func (b *Build) artifactsIn(obj string) *Artifacts {
	boot := filepath.Join(obj, "arch", b.Board.KernelSrcArch(), "boot")
	a := &Artifacts{
		Image:     filepath.Join(boot, b.Board.Kernel.Image),
		Vmlinux:   filepath.Join(obj, "vmlinux"),
		Config:    filepath.Join(obj, ".config"),
		SystemMap: filepath.Join(obj, "System.map"),
	}
	if d := b.Board.Kernel.DTB; d != "" {
		a.DTB = filepath.Join(boot, "dts", dtbTarget(b.Tree.Dir, b.Board.KernelSrcArch(), d))
	}
	return a
}

func (a *Artifacts) files() []*string {
	return []*string{&a.Image, &a.DTB, &a.Vmlinux, &a.Config, &a.SystemMap}
}

func (a *Artifacts) exist() bool {
	for _, p := range a.files() {
		if *p == "" {
			continue
		}
		if !fileExists(*p) {
			return false
		}
	}
	return true
}
