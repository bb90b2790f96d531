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
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/kdumpkit/kdumpkit/boards"
	"github.com/kdumpkit/kdumpkit/kernelcfg"
	"github.com/kdumpkit/kdumpkit/kernelsrc"
	"github.com/kdumpkit/kdumpkit/toolchain"
)

// A fake kernel tree whose Makefile plays defconfig/olddefconfig the way
// Kconfig would with EXPERT off: it drops CRASH_DUMP.
func fakeTree(t *testing.T) *kernelsrc.Tree {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "Kconfig"), []byte("config KEXEC\n\tbool \"kexec\"\nconfig CRASH_DUMP\n\tbool \"crash\"\n\tdepends on EXPERT\nconfig EXPERT\n\tbool \"expert\"\n"), 0o644)
	mk := `
fake_defconfig:
	printf 'CONFIG_KEXEC=y\n' > $(O)/.config
olddefconfig:
	grep -v CRASH_DUMP $(O)/.config > $(O)/.config.new; mv $(O)/.config.new $(O)/.config
`
	os.WriteFile(filepath.Join(dir, "Makefile"), []byte(mk), 0o644)
	return &kernelsrc.Tree{Dir: dir, ID: "fake", Version: "6.1.0"}
}

func fakeBoard(t *testing.T, fragment string) *boards.Board {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "frag.config"), []byte(fragment), 0o644)
	return &boards.Board{Name: "fake", Arch: "arm", Path: filepath.Join(dir, "b.toml"),
		Kernel: boards.Kernel{Defconfig: "fake_defconfig", Image: "zImage", Fragments: []string{"frag.config"}}}
}

func TestConfigThatDidNotStickIsExplained(t *testing.T) {
	b := &Build{Board: fakeBoard(t, "CONFIG_KEXEC=y\nCONFIG_CRASH_DUMP=y\n"), Tree: fakeTree(t),
		Toolchain: &toolchain.Toolchain{CrossCompile: "none-"}, CacheDir: t.TempDir(), OutDir: t.TempDir(), Log: &bytes.Buffer{}}
	_, err := b.Run(context.Background())
	if !errors.Is(err, ErrConfig) {
		t.Fatalf("err = %v", err)
	}
	for _, want := range []string{"frag.config:2 asks for y, the final .config has n", "depends on EXPERT (Kconfig:5)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if _, err := os.Stat(filepath.Join(b.ObjDir(), ".kdumpkit-stamp")); err == nil {
		t.Error("a failed configure left a stamp")
	}
}

func TestUnknownFragmentSymbol(t *testing.T) {
	b := &Build{Board: fakeBoard(t, "CONFIG_KEXEC=y\nCONFIG_KEXCE=y\n"), Tree: fakeTree(t),
		Toolchain: &toolchain.Toolchain{CrossCompile: "none-"}, CacheDir: t.TempDir(), OutDir: t.TempDir(), Log: &bytes.Buffer{}}
	_, err := b.Run(context.Background())
	if !errors.Is(err, kernelcfg.ErrUnknownSymbol) || !strings.Contains(err.Error(), "frag.config:2: CONFIG_KEXCE") {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(b.ObjDir()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused fragment left an object tree in the cache: %v", err)
	}
}

func TestStampChangesWithInputs(t *testing.T) {
	b := &Build{Board: fakeBoard(t, "CONFIG_KEXEC=y\n"), Tree: fakeTree(t), Toolchain: &toolchain.Toolchain{CrossCompile: "a-"}}
	frags, err := b.fragments()
	if err != nil {
		t.Fatal(err)
	}
	s1 := b.stamp(frags)
	b.Toolchain = &toolchain.Toolchain{CrossCompile: "b-"}
	if b.stamp(frags) == s1 {
		t.Error("stamp ignores the toolchain")
	}
	b.Toolchain = &toolchain.Toolchain{CrossCompile: "a-"}
	frags[0].Set(kernelcfg.Entry{Name: "KEXEC", Value: "n"})
	if b.stamp(frags) == s1 {
		t.Error("stamp ignores the fragments")
	}
}

// A fake tree whose make counts its runs and makes every artifact, so the
// skip logic can be checked without a compiler.
func countingTree(t *testing.T) (*kernelsrc.Tree, string) {
	dir := t.TempDir()
	count := filepath.Join(dir, "make-runs")
	os.WriteFile(filepath.Join(dir, "Kconfig"), []byte("config KEXEC\n\tbool \"kexec\"\n"), 0o644)
	mk := `
fake_defconfig:
	echo defconfig >> ` + count + `
	printf '# CONFIG_KEXEC is not set\n' > $(O)/.config
olddefconfig:
	echo olddefconfig >> ` + count + `
zImage vmlinux:
	echo $@ >> ` + count + `
	mkdir -p $(O)/arch/arm/boot
	touch $(O)/arch/arm/boot/zImage $(O)/vmlinux $(O)/System.map
`
	os.WriteFile(filepath.Join(dir, "Makefile"), []byte(mk), 0o644)
	return &kernelsrc.Tree{Dir: dir, ID: "counting", Version: "6.1.0"}, count
}

func makeRuns(t *testing.T, count string) []string {
	b, _ := os.ReadFile(count)
	return strings.Fields(string(b))
}

func TestConfigureThenRunSkipsWhatIsDone(t *testing.T) {
	tree, count := countingTree(t)
	var log bytes.Buffer
	b := &Build{Board: fakeBoard(t, "CONFIG_KEXEC=y\n"), Tree: tree,
		Toolchain: &toolchain.Toolchain{CrossCompile: "none-"}, CacheDir: t.TempDir(), OutDir: t.TempDir(), Log: &log}
	ctx := context.Background()
	cfg, err := b.Configure(ctx)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if got, _ := os.ReadFile(cfg); !strings.Contains(string(got), "CONFIG_KEXEC=y") {
		t.Errorf("collected config %s lacks the fragment's KEXEC=y:\n%s", cfg, got)
	}
	if _, err := b.Configure(ctx); err != nil {
		t.Fatal(err)
	}
	if got := makeRuns(t, count); strings.Join(got, " ") != "defconfig olddefconfig" {
		t.Errorf("second Configure ran make again: %v", got)
	}
	a, err := b.Run(ctx)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	// make -j runs zImage and vmlinux in either order.
	if !a.FromScratch {
		t.Errorf("first Run into an empty object tree: FromScratch = false")
	}
	if runs := makeRuns(t, count); !a.Built || len(runs) != 4 || strings.Join(runs[:2], " ") != "defconfig olddefconfig" ||
		!(runs[2] == "zImage" && runs[3] == "vmlinux" || runs[2] == "vmlinux" && runs[3] == "zImage") {
		t.Errorf("Run after Configure: built=%v, make runs %v", a.Built, makeRuns(t, count))
	}
	log.Reset()
	if a, err = b.Run(ctx); err != nil || a.Built || a.FromScratch {
		t.Fatalf("second Run: built=%v from scratch=%v err=%v", a != nil && a.Built, a != nil && a.FromScratch, err)
	}
	if n := len(makeRuns(t, count)); n != 4 || !strings.Contains(log.String(), "up to date") {
		t.Errorf("second Run ran make (%d runs) or did not say so:\n%s", n, log.String())
	}
	for _, f := range []string{"zImage", "vmlinux", "System.map", "config"} {
		if _, err := os.Stat(filepath.Join(b.OutDir, f)); err != nil {
			t.Errorf("artifact not collected: %v", err)
		}
	}
}

func TestChangedFragmentReconfigures(t *testing.T) {
	tree, count := countingTree(t)
	board := fakeBoard(t, "CONFIG_KEXEC=y\n")
	b := &Build{Board: board, Tree: tree, Toolchain: &toolchain.Toolchain{CrossCompile: "none-"},
		CacheDir: t.TempDir(), OutDir: t.TempDir(), Log: &bytes.Buffer{}}
	if _, err := b.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	frag := filepath.Join(filepath.Dir(board.Path), "frag.config")
	os.WriteFile(frag, []byte("# CONFIG_KEXEC is not set\n"), 0o644)
	a, err := b.Run(context.Background())
	if err != nil || !a.Built {
		t.Fatalf("changed fragment: built=%v err=%v", a != nil && a.Built, err)
	}
	if got := makeRuns(t, count); len(got) != 8 {
		t.Errorf("make runs %v, want two full rounds", got)
	}
}

// A fragment that fails the checks before make must not cost the next
// good run a rebuild: the stamps and the tree stay as they were.
func TestRejectedFragmentKeepsTheWarmTree(t *testing.T) {
	tree, count := countingTree(t)
	board := fakeBoard(t, "CONFIG_KEXEC=y\n")
	b := &Build{Board: board, Tree: tree, Toolchain: &toolchain.Toolchain{CrossCompile: "none-"},
		CacheDir: t.TempDir(), OutDir: t.TempDir(), Log: &bytes.Buffer{}}
	ctx := context.Background()
	if _, err := b.Run(ctx); err != nil {
		t.Fatal(err)
	}
	frag := filepath.Join(filepath.Dir(board.Path), "frag.config")
	os.WriteFile(frag, []byte("CONFIG_KEXEC=y\nCONFIG_NO_SUCH=y\n"), 0o644)
	if _, err := b.Run(ctx); !errors.Is(err, kernelcfg.ErrUnknownSymbol) {
		t.Fatalf("err = %v", err)
	}
	os.WriteFile(frag, []byte("CONFIG_KEXEC=y\n"), 0o644)
	a, err := b.Run(ctx)
	if err != nil || a.Built {
		t.Fatalf("after a rejected fragment: built=%v err=%v", a != nil && a.Built, err)
	}
	if n := len(makeRuns(t, count)); n != 4 {
		t.Errorf("%d make runs, want the first build's 4 only", n)
	}
}

// TestBoardValueNeverRunsAsMake: a defconfig, image or dtb that make would
// read as an option, an assignment or a function call never reaches make,
// even on a Board built in code without the loader's checks.
func TestBoardValueNeverRunsAsMake(t *testing.T) {
	proof := filepath.Join(t.TempDir(), "ran")
	for _, tc := range []struct {
		field string
		set   func(*boards.Kernel, string)
	}{
		{"defconfig", func(k *boards.Kernel, v string) { k.Defconfig = v }},
		{"image", func(k *boards.Kernel, v string) { k.Image = v }},
		{"dtb", func(k *boards.Kernel, v string) { k.DTB = v }},
	} {
		for _, v := range []string{"--eval=$(shell touch " + proof + ")", "X=$(shell touch " + proof + ")", "-B"} {
			board := fakeBoard(t, "CONFIG_KEXEC=y\n")
			tc.set(&board.Kernel, v)
			b := &Build{Board: board, Tree: fakeTree(t), Toolchain: &toolchain.Toolchain{CrossCompile: "none-"},
				CacheDir: t.TempDir(), OutDir: t.TempDir(), Log: &bytes.Buffer{}}
			_, err := b.Run(context.Background())
			if !errors.Is(err, ErrBadMakeArg) || !strings.Contains(err.Error(), strconv.Quote(v)) {
				t.Errorf("%s %q: err = %v", tc.field, v, err)
			}
			if _, err := os.Stat(proof); err == nil {
				t.Fatalf("%s %q ran a command through make", tc.field, v)
			}
		}
	}
}

// TestMakeArgsEndOptions: every variable and target comes after "--", so
// make reads none of them as an option; and the real make still takes
// variables and targets there.
func TestMakeArgsEndOptions(t *testing.T) {
	b := &Build{Board: fakeBoard(t, ""), Tree: fakeTree(t), Toolchain: &toolchain.Toolchain{CrossCompile: "none-"}, Jobs: 2}
	argv, err := b.makeArgs("/obj", []string{"zImage", "arm/vexpress.dtb"})
	if err != nil {
		t.Fatal(err)
	}
	dash := slices.Index(argv, "--")
	if dash < 0 || !slices.Contains(argv[:dash], "-j2") {
		t.Fatalf("argv %q: no -- after the options", argv)
	}
	for _, a := range argv[dash+1:] {
		if strings.HasPrefix(a, "-") {
			t.Errorf("argv %q: %q after --", argv, a)
		}
	}
	if got := argv[len(argv)-2:]; got[0] != "zImage" || got[1] != "arm/vexpress.dtb" {
		t.Errorf("targets %q", got)
	}
	b.Toolchain.CrossCompile = "$(shell id)-"
	if _, err := b.makeArgs("/obj", nil); !errors.Is(err, ErrBadMakeArg) {
		t.Errorf("a $ in CROSS_COMPILE: %v", err)
	}
}

// TestChangingTreeRebuildsWithoutReconfiguring: a tree or git source keeps
// its ID (its object tree) while its Rev moves. A new Rev makes the build
// run make again, but configures again only when a Kconfig file changed.
func TestChangingTreeRebuildsWithoutReconfiguring(t *testing.T) {
	tree, count := countingTree(t)
	tree.Rev = "git 1111"
	var log bytes.Buffer
	b := &Build{Board: fakeBoard(t, "CONFIG_KEXEC=y\n"), Tree: tree, Toolchain: &toolchain.Toolchain{CrossCompile: "none-"},
		CacheDir: t.TempDir(), OutDir: t.TempDir(), Log: &log}
	ctx := context.Background()
	if _, err := b.Run(ctx); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	obj := b.ObjDir()
	if a, err := b.Run(ctx); err != nil || a.Built {
		t.Fatalf("same rev rebuilt: %v", err)
	}
	tree.Rev = "git 2222" // an edited .c
	a, err := b.Run(ctx)
	if err != nil || !a.Built || a.FromScratch || b.ObjDir() != obj {
		t.Fatalf("new rev: built=%v scratch=%v obj %s, %v", a != nil && a.Built, a != nil && a.FromScratch, b.ObjDir(), err)
	}
	if runs := makeRuns(t, count); len(runs) != 6 || slices.Contains(runs[4:], "defconfig") {
		t.Errorf("an edit outside Kconfig reconfigured: make runs %v", runs)
	}
	os.WriteFile(filepath.Join(tree.Dir, "Kconfig"), []byte("config KEXEC\n\tbool \"kexec\"\n\tdefault y\n"), 0o644)
	tree.Rev = "git 3333"
	if _, err := b.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if runs := makeRuns(t, count); len(runs) != 10 || runs[6] != "defconfig" {
		t.Errorf("an edited Kconfig did not reconfigure: make runs %v", runs)
	}
}

// TestStampOfTarballSourcesUnchanged: a source without a Rev hashes as it
// did before Rev existed, so no warm tarball or Debian cache is rebuilt;
// a Rev is part of the stamp.
func TestStampOfTarballSourcesUnchanged(t *testing.T) {
	b := &Build{Board: fakeBoard(t, "CONFIG_KEXEC=y\n"), Tree: fakeTree(t), Toolchain: &toolchain.Toolchain{CrossCompile: "a-", Target: "arm"}}
	frags, err := b.fragments()
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	k := b.Board.Kernel
	fmt.Fprintf(h, "%s\n%s\n%s %s\n%s\n%s\n%s\n%s\n", stampVersion, b.Tree.ID, "a-", "arm", k.Defconfig, k.Image, k.DTB, "arm")
	for _, f := range frags {
		f.WriteTo(h)
	}
	if got, want := b.stamp(frags), hex.EncodeToString(h.Sum(nil))+"\n"; got != want {
		t.Errorf("stamp %s, want the pre-Rev formula's %s", got, want)
	}
	s := b.stamp(frags)
	b.Tree.Rev = "git 1"
	if b.stamp(frags) == s {
		t.Error("stamp ignores the rev")
	}
}

// TestObjDirNamedByKernel: the object tree is named by the kernel it
// builds, so the arm64 and arm64-uboot boards share one; another fragment
// list is another tree; a tree named by board (older kdumpkit) is adopted.
func TestObjDirNamedByKernel(t *testing.T) {
	cache := t.TempDir()
	build := func(name string) *Build {
		b, err := boards.Shipped(name)
		if err != nil {
			t.Fatal(err)
		}
		return &Build{Board: b, Tree: &kernelsrc.Tree{ID: "debian-x"}, CacheDir: cache, Log: io.Discard}
	}
	a, u, v := build("arm64"), build("arm64-uboot"), build("vexpress")
	if a.ObjDir() != u.ObjDir() {
		t.Errorf("arm64 %s and arm64-uboot %s build one kernel in two trees", a.ObjDir(), u.ObjDir())
	}
	if v.ObjDir() == a.ObjDir() {
		t.Error("vexpress shares arm64's tree")
	}
	other := *a.Board
	other.Kernel.Fragments = other.Kernel.Fragments[:len(other.Kernel.Fragments)-1]
	if (&Build{Board: &other, Tree: a.Tree, CacheDir: cache}).ObjDir() == a.ObjDir() {
		t.Error("a different fragment list shares the tree")
	}
	legacy := filepath.Join(cache, "kbuild", "vexpress-debian-x")
	if err := os.MkdirAll(legacy, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(legacy, "vmlinux"), []byte("built"), 0o644)
	v.adoptLegacy(v.ObjDir())
	if data, err := os.ReadFile(filepath.Join(v.ObjDir(), "vmlinux")); err != nil || string(data) != "built" {
		t.Errorf("the board-named tree was not adopted: %v", err)
	}
}
