package toolchain

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kdumpkit/kdumpkit/boards"
)

// fakeGCC writes a gcc that prints triple for -dumpmachine.
func fakeGCC(t *testing.T, dir, prefix, triple string) {
	t.Helper()
	os.MkdirAll(dir, 0o755)
	script := "#!/bin/sh\n[ \"$1\" = -dumpmachine ] && echo " + triple + "\n"
	if err := os.WriteFile(filepath.Join(dir, prefix+"gcc"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
}

func TestFits(t *testing.T) {
	for _, c := range []struct {
		triple, arch string
		ok           bool
	}{
		{"arm-linux-gnueabihf", "arm", true},
		{"arm-buildroot-linux-gnueabihf", "arm", true},
		{"armv7a-none-eabi", "arm", false}, // bare metal: no Linux
		{"aarch64-linux-gnu", "arm", false},
		{"aarch64-linux-gnu", "arm64", true},
		{"x86_64-linux-gnu", "x86_64", true},
		{"x86_64-linux-gnu", "arm", false},
	} {
		if Fits(c.triple, c.arch) != c.ok {
			t.Errorf("Fits(%s, %s) != %v", c.triple, c.arch, c.ok)
		}
	}
}

func TestPathSourceDetection(t *testing.T) {
	bin := t.TempDir()
	fakeGCC(t, bin, "arm-linux-gnueabihf-", "arm-linux-gnueabihf")
	fakeGCC(t, bin, "aarch64-linux-gnu-", "aarch64-linux-gnu")
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	b := &boards.Board{Path: "t.toml", Arch: "arm", Toolchain: boards.Toolchain{Sources: []boards.Source{
		{Kind: "path", Prefix: "nosuch-linux-gnueabihf-"},
		{Kind: "path", Prefix: "aarch64-linux-gnu-"}, // on PATH, wrong arch
		{Kind: "path", Prefix: "arm-linux-gnueabihf-"},
	}}}
	var log bytes.Buffer
	tc, err := Resolve(context.Background(), b, t.TempDir(), &log)
	if err != nil {
		t.Fatal(err)
	}
	if tc.CrossCompile != "arm-linux-gnueabihf-" || tc.Target != "arm-linux-gnueabihf" {
		t.Errorf("toolchain %+v", tc)
	}
	for _, want := range []string{
		"toolchain source 1 of 3 (PATH prefix nosuch-linux-gnueabihf-) failed: nosuch-linux-gnueabihf-gcc is not on PATH",
		"toolchain source 2 of 3 (PATH prefix aarch64-linux-gnu-) failed: aarch64-linux-gnu-gcc -dumpmachine says aarch64-linux-gnu, the board is arm",
		"toolchain: using PATH (arm-linux-gnueabihf-gcc, target arm-linux-gnueabihf)",
	} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, log.String())
		}
	}
	b.Toolchain.Sources = b.Toolchain.Sources[1:2]
	if _, err := Resolve(context.Background(), b, t.TempDir(), &log); !errors.Is(err, ErrNoToolchain) || !errors.Is(err, ErrWrongTarget) {
		t.Errorf("err = %v", err)
	}
}

func TestFindGCCInTarballLayout(t *testing.T) {
	dir := t.TempDir()
	fakeGCC(t, filepath.Join(dir, "armv7-eabihf--glibc--stable", "bin"), "arm-buildroot-linux-gnueabihf-", "arm-buildroot-linux-gnueabihf")
	bin, prefix, err := FindGCC(dir, "")
	if err != nil || prefix != "arm-buildroot-linux-gnueabihf-" || !strings.HasSuffix(bin, "stable/bin") {
		t.Errorf("FindGCC = %s %s %v", bin, prefix, err)
	}
	tc := &Toolchain{CrossCompile: prefix, Bin: bin}
	if err := tc.check(context.Background(), "arm"); err != nil {
		t.Errorf("check of a toolchain off PATH: %v", err)
	}
	if env := tc.Env([]string{"PATH=/usr/bin"}); env[0] != "PATH="+bin+":/usr/bin" {
		t.Errorf("Env = %v", env)
	}
	if _, _, err := FindGCC(dir, "x86_64-linux-"); err == nil {
		t.Error("found a gcc with the wrong prefix")
	}
}
