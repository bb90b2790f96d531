package kbuild

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
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
