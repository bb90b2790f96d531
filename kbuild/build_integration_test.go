package kbuild

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kdumpkit/kdumpkit/boards"
	"github.com/kdumpkit/kdumpkit/hostcheck"
	"github.com/kdumpkit/kdumpkit/kernelcfg"
	"github.com/kdumpkit/kdumpkit/kernelsrc"
	"github.com/kdumpkit/kdumpkit/toolchain"
)

func cacheDir(t *testing.T) string {
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "kdumpkit")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(home, ".cache", "kdumpkit")
}

// TestBuildVexpress builds the real vexpress kernel through the same code
// as `kernel:build`, in the shared cache (about 8 minutes on 2 cores the
// first time, seconds after), and checks what it made.
func TestBuildVexpress(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds a real kernel")
	}
	b, err := boards.Shipped("vexpress")
	if err != nil {
		t.Fatal(err)
	}
	if miss := hostcheck.Missing(hostcheck.ForArch(b.QEMU.Binary), os.Getenv("PATH")); len(miss) > 0 {
		t.Skipf("host lacks %v: `go run mage.go test` installs them", miss)
	}
	ctx := context.Background()
	var log bytes.Buffer
	tc, err := toolchain.Resolve(ctx, b, cacheDir(t), &log)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	tree, err := kernelsrc.Resolve(ctx, b, cacheDir(t), &log)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	out := t.TempDir()
	build := &Build{Board: b, Tree: tree, Toolchain: tc, CacheDir: cacheDir(t), OutDir: out, Log: &log}
	a, err := build.Run(ctx)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	t.Logf("first run: built=%v in %s", a.Built, a.Duration)

	img, err := os.ReadFile(a.Image)
	if err != nil || len(img) < 0x30 || binary.LittleEndian.Uint32(img[0x24:]) != 0x016f2818 {
		t.Errorf("%s is not a zImage (magic 0x016f2818 at 0x24): %v", a.Image, err)
	}
	if dtb, err := os.ReadFile(a.DTB); err != nil || binary.BigEndian.Uint32(dtb) != 0xd00dfeed {
		t.Errorf("%s is not a flattened device tree: %v", a.DTB, err)
	}
	vm, err := elf.Open(a.Vmlinux)
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Close()
	if vm.Machine != elf.EM_ARM || vm.Section(".debug_info") == nil || vm.Section(".debug_info").Size < 1<<20 {
		t.Errorf("vmlinux: machine %v, .debug_info %v", vm.Machine, vm.Section(".debug_info"))
	}
	f, err := os.Open(a.Config)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := kernelcfg.Parse(a.Config, f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"KEXEC", "CRASH_DUMP", "PROC_VMCORE", "AUTO_ZRELADDR", "HOTPLUG_CPU", "MAGIC_SYSRQ", "DEBUG_INFO"} {
		if v, _ := cfg.Get(s); v != "y" {
			t.Errorf("CONFIG_%s=%s, want y", s, v)
		}
	}

	// Nothing changed: no make, and quick.
	log.Reset()
	start := time.Now()
	again, err := build.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if again.Built || !strings.Contains(log.String(), "up to date") {
		t.Errorf("second run rebuilt:\n%s", log.String())
	}
	t.Logf("second run: %s", time.Since(start))
}

// BenchmarkUpToDate times kernel:build's path when nothing changed (the
// issue's goal is at most 5 s): resolving toolchain and source, hashing the
// inputs and finding the stamp. It needs a warm cache (run the integration
// test or `go run mage.go kernel:build` first) and skips otherwise.
func BenchmarkUpToDate(b *testing.B) {
	bd, err := boards.Shipped("vexpress")
	if err != nil {
		b.Fatal(err)
	}
	dir := os.Getenv("XDG_CACHE_HOME")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".cache")
	}
	dir = filepath.Join(dir, "kdumpkit")
	out := b.TempDir()
	for b.Loop() {
		ctx := context.Background()
		var log bytes.Buffer
		tc, err := toolchain.Resolve(ctx, bd, dir, &log)
		if err != nil {
			b.Skipf("no toolchain: %v", err)
		}
		tree, err := kernelsrc.Resolve(ctx, bd, dir, &log)
		if err != nil {
			b.Skipf("no kernel source: %v", err)
		}
		build := &Build{Board: bd, Tree: tree, Toolchain: tc, CacheDir: dir, OutDir: out, Log: &log}
		if _, err := os.Stat(filepath.Join(build.ObjDir(), buildStampFile)); err != nil {
			b.Skipf("cold cache (%v): build the kernel first", err)
		}
		a, err := build.Run(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if a.Built {
			b.Fatalf("rebuilt:\n%s", log.String())
		}
	}
}

// TestRealTreeExplainsDependencyOff configures (no compile) the real 6.1
// tree with SMP turned off after the kdump fragment asked for HOTPLUG_CPU:
// olddefconfig drops HOTPLUG_CPU, and the error must say why from the real
// arch/arm/Kconfig. About 15 s; the object tree is a temporary one.
func TestRealTreeExplainsDependencyOff(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs the kernel's make defconfig")
	}
	b, err := boards.Shipped("vexpress")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var log bytes.Buffer
	tc, err := toolchain.Resolve(ctx, b, cacheDir(t), &log)
	if err != nil {
		t.Skipf("no toolchain: %v\n%s", err, log.String())
	}
	tree, err := kernelsrc.Resolve(ctx, b, cacheDir(t), &log)
	if err != nil {
		t.Skipf("no kernel source: %v\n%s", err, log.String())
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "nosmp.config"), []byte("# CONFIG_SMP is not set\n"), 0o644)
	b.Path = filepath.Join(dir, "board.toml")
	b.Kernel.Fragments = []string{"kdump", "kdump-arm", "nosmp.config"}
	build := &Build{Board: b, Tree: tree, Toolchain: tc, CacheDir: t.TempDir(), OutDir: t.TempDir(), Log: &log}
	_, err = build.Configure(ctx)
	if !errors.Is(err, ErrConfig) {
		t.Fatalf("err = %v\n%s", err, log.String())
	}
	for _, want := range []string{"CONFIG_HOTPLUG_CPU: boards/fragments/kdump-arm.config:", "asks for y, the final .config has n",
		"depends on SMP (arch/arm/Kconfig:", "in the final .config: SMP=n"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	t.Logf("%v", err)
}
