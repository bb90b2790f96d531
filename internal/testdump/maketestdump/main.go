// Command maketestdump makes (or finds cached) the real dump of a shipped
// board (its one argument, vexpress by default) that package testdump
// hands to tests, and prints its paths as JSON. It goes through the same
// packages as `go run mage.go kdump:test`.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"time"

	"github.com/kdumpkit/kdumpkit/boards"
	"github.com/kdumpkit/kdumpkit/hostcheck"
	"github.com/kdumpkit/kdumpkit/internal/copyfile"
	"github.com/kdumpkit/kdumpkit/internal/filelock"
	"github.com/kdumpkit/kdumpkit/internal/testdump"
	"github.com/kdumpkit/kdumpkit/kbuild"
	"github.com/kdumpkit/kdumpkit/kernelsrc"
	"github.com/kdumpkit/kdumpkit/pipeline"
	"github.com/kdumpkit/kdumpkit/rootfs"
	"github.com/kdumpkit/kdumpkit/toolchain"
)

// version changes when the dump is made differently, so older caches are
// not reused.
const version = "testdump-2"

func main() {
	board := "vexpress"
	if len(os.Args) > 1 {
		board = os.Args[1]
	}
	d, err := run(context.Background(), board, os.Stderr)
	var un unavailable
	switch {
	case errors.As(err, &un):
		fmt.Fprintln(os.Stderr, err)
		os.Exit(testdump.ExitUnavailable)
	case err != nil:
		fmt.Fprintln(os.Stderr, "maketestdump:", err)
		os.Exit(1)
	}
	json.NewEncoder(os.Stdout).Encode(d)
}

type unavailable struct{ error }

func cacheDir() string {
	base := os.Getenv("XDG_CACHE_HOME")
	if base == "" {
		home, _ := os.UserHomeDir()
		base = filepath.Join(home, ".cache")
	}
	return filepath.Join(base, "kdumpkit")
}

func run(ctx context.Context, board string, log io.Writer) (*testdump.Dump, error) {
	b, err := boards.Shipped(board)
	if err != nil {
		return nil, err
	}
	if miss := hostcheck.Missing(hostcheck.ForArch(b.QEMU.Binary), os.Getenv("PATH")); len(miss) > 0 {
		return nil, unavailable{fmt.Errorf("host lacks %v: `go run mage.go test` installs them", miss)}
	}
	cache := cacheDir()
	tc, err := toolchain.Resolve(ctx, b, cache, log)
	if err != nil {
		return nil, err
	}
	tree, err := kernelsrc.Resolve(ctx, b, cache, log)
	if err != nil {
		return nil, err
	}
	top := filepath.Join(cache, "testdump", b.Name)
	a, err := (&kbuild.Build{Board: b, Tree: tree, Toolchain: tc, CacheDir: cache, OutDir: filepath.Join(top, "kernel"), Log: log}).Run(ctx)
	if err != nil {
		return nil, err
	}
	initrd, err := rootfs.ForBoard(ctx, b, a.Image, filepath.Join(cache, "rootfs", b.Name), log)
	if err != nil {
		return nil, err
	}
	key, err := inputKey(a.Image, a.DTB, initrd)
	if err != nil {
		return nil, err
	}
	d := &testdump.Dump{Dir: filepath.Join(top, key), Key: key}
	d.Vmlinux, d.Vmcore, d.Console = filepath.Join(d.Dir, "vmlinux"), filepath.Join(d.Dir, "vmcore"), filepath.Join(d.Dir, "console.log")
	d.Image, d.Initrd = filepath.Join(d.Dir, filepath.Base(a.Image)), filepath.Join(d.Dir, "initrd.cpio.gz")
	if a.DTB != "" {
		d.DTB = filepath.Join(d.Dir, filepath.Base(a.DTB))
	}
	unlock, err := filelock.Lock(filepath.Join(top, "lock"))
	if err != nil {
		return nil, err
	}
	defer unlock()
	complete := filepath.Join(d.Dir, "complete")
	if _, err := os.Stat(complete); err != nil {
		fmt.Fprintf(log, "testdump: no cached dump for %s; running kdump:test's pipeline\n", key)
		if err := makeDump(ctx, b, a, initrd, d, log); err != nil {
			return nil, err
		}
	}
	now := time.Now()
	os.Chtimes(complete, now, now) // marks it used, for prune
	prune(top, keep, log)
	return d, nil
}

// keep is how many dumps the cache holds: each is ~620 MiB (vmcore and
// vmlinux), and two let a second checkout of other code keep its own.
const keep = 2

// prune removes all but the keep most recently used dumps.
func prune(top string, keep int, log io.Writer) {
	marks, _ := filepath.Glob(filepath.Join(top, "*", "complete"))
	used := func(p string) time.Time {
		st, err := os.Stat(p)
		if err != nil {
			return time.Time{}
		}
		return st.ModTime()
	}
	sort.Slice(marks, func(i, j int) bool { return used(marks[i]).After(used(marks[j])) })
	for _, m := range marks[min(keep, len(marks)):] {
		fmt.Fprintf(log, "testdump: removing %s, least recently used\n", filepath.Dir(m))
		os.RemoveAll(filepath.Dir(m))
	}
}

// makeDump runs the pipeline into a scratch directory and moves the dump
// and the files that produced it into d.Dir, marked complete last.
func makeDump(ctx context.Context, b *boards.Board, a *kbuild.Artifacts, initrd string, d *testdump.Dump, log io.Writer) error {
	scratch, err := os.MkdirTemp(filepath.Dir(d.Dir), ".make-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	analyzer := filepath.Join(scratch, "kdumpkit")
	if out, err := exec.Command("go", "build", "-o", analyzer, "./cmd/kdumpkit").CombinedOutput(); err != nil {
		return fmt.Errorf("building the analyzer: %v\n%s", err, out)
	}
	k := &pipeline.Kdump{Board: b, Kernel: a.Image, DTB: a.DTB, Vmlinux: a.Vmlinux, Initrd: initrd, Analyzer: analyzer,
		Crash: "sysrq", DumpsDir: filepath.Join(scratch, "dumps"), Log: log}
	res, err := k.Run(ctx)
	// A disagreement between analyzer and console is for the tests to
	// find; the dump itself is good.
	if err != nil && !errors.Is(err, pipeline.ErrDisagree) {
		return err
	}
	for src, dst := range map[string]string{a.Vmlinux: d.Vmlinux, a.Image: d.Image, a.DTB: d.DTB, initrd: d.Initrd} {
		if src == "" {
			continue
		}
		if err := copyfile.Copy(src, filepath.Join(res.Dir, filepath.Base(dst))); err != nil {
			return err
		}
	}
	os.RemoveAll(d.Dir)
	if err := os.Rename(res.Dir, d.Dir); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(d.Dir, "complete"), nil, 0o644)
}

// inputKey hashes what determines the dump: the kernel, its device tree
// and the initramfs (which holds the capture tool and the crash kernel).
func inputKey(files ...string) (string, error) {
	h := sha256.New()
	io.WriteString(h, version+"\x00")
	for _, p := range files {
		if p == "" {
			continue // no device tree: QEMU writes it
		}
		f, err := os.Open(p)
		if err != nil {
			return "", err
		}
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}
