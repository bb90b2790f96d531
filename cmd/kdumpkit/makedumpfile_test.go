package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kdumpkit/kdumpkit/analyze/dump"
	"github.com/kdumpkit/kdumpkit/analyze/printk"
	"github.com/kdumpkit/kdumpkit/internal/testdump"
)

// makedumpfileARM64 finds Debian's makedumpfile:arm64 unpacked under
// $XDG_CACHE_HOME/kdumpkit/oracle/makedumpfile-arm64 and
// qemu-aarch64-static: makedumpfile reads only dumps of the machine it is
// built for, and there is no ARM32 dump it can filter cross-host.
func makedumpfileARM64() (root, qemu string, err error) {
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache")
	}
	root = filepath.Join(cache, "kdumpkit", "oracle", "makedumpfile-arm64")
	how := "dpkg --add-architecture arm64; apt-get update; apt-get install qemu-user-static; apt-get download makedumpfile:arm64 " +
		"libdw1:arm64 libelf1:arm64 liblzo2-2:arm64 zlib1g:arm64 libc6:arm64 libgcc-s1:arm64 libbz2-1.0:arm64 liblzma5:arm64 libzstd1:arm64; dpkg-deb -x each into " + root
	if _, err := os.Stat(filepath.Join(root, "usr/bin/makedumpfile")); err != nil {
		return "", "", fmt.Errorf("no makedumpfile:arm64 (%v); to install: %s", err, how)
	}
	if qemu, err = exec.LookPath("qemu-aarch64-static"); err != nil {
		return "", "", fmt.Errorf("no qemu-aarch64-static; to install: %s", how)
	}
	return root, qemu, nil
}

// TestMakedumpfileInterop: Debian's makedumpfile 1.7.2 (arm64, under
// qemu-aarch64-static) writes the arm64 test dump at level 31 with zlib;
// the analyzer reads that file as it reads the ELF (the same kernel log,
// sys and ps, every dumped page's bytes), dump-convert's own level-31
// file keeps exactly the pages makedumpfile keeps, and makedumpfile's
// --split parts joined by `kdumpkit reassemble` hold the same pages.
func TestMakedumpfileInterop(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: needs the arm64 test dump")
	}
	root, qemu, err := makedumpfileARM64()
	if err != nil {
		t.Skip(err)
	}
	d := testdump.RequireBoard(t, "arm64")
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	dir := t.TempDir()
	theirs, ours := filepath.Join(dir, "vmcore.makedumpfile"), filepath.Join(dir, "vmcore.kdumpkit")
	cmd := exec.Command(qemu, "-L", root, filepath.Join(root, "usr/bin/makedumpfile"), "-c", "-d", "31", d.Vmcore, theirs)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("makedumpfile: %v\n%s", err, out)
	}
	if err := runDumpConvert([]string{"-d", "31", "-c", "zlib", d.Vmcore, ours}, nil, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	e, err := dump.Open(d.Vmcore)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	m, err := dump.Open(theirs)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	o, err := dump.Open(ours)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	km, ko := m.Kdump(), o.Kdump()
	if km.MaxMapnr != ko.MaxMapnr || km.Sub.PhysBase != ko.Sub.PhysBase || km.Header.Utsname != ko.Header.Utsname || km.Sub.DumpLevel != 31 {
		t.Errorf("headers: makedumpfile %+v %+v, ours %+v %+v", km.Header, km.Sub, ko.Header, ko.Sub)
	}
	if !bytes.Equal(km.Present.Bytes(), ko.Present.Bytes()) {
		t.Error("the 1st bitmaps (RAM) differ")
	}
	var onlyOurs, onlyTheirs uint64
	for i := uint64(0); i < km.MaxMapnr; i++ {
		switch a, b := ko.Dumped.Test(i), km.Dumped.Test(i); {
		case a && !b:
			onlyOurs++
		case b && !a:
			onlyTheirs++
		}
	}
	t.Logf("makedumpfile keeps %d of %d RAM pages, dump-convert %d; only ours %d, only makedumpfile's %d",
		km.Dumped.Count(), km.Present.Count(), ko.Dumped.Count(), onlyOurs, onlyTheirs)
	if onlyOurs+onlyTheirs != 0 {
		t.Error("dump-convert and makedumpfile keep different pages at level 31")
	}
	a, b := make([]byte, 4096), make([]byte, 4096)
	for i, ok := km.Dumped.Next(0); ok; i, ok = km.Dumped.Next(i + 1) {
		pa := (i + km.PFNOffset) * 4096
		if err1, err2 := e.ReadPhys(a, pa), m.ReadPhys(b, pa); err1 != nil || err2 != nil || !bytes.Equal(a, b) {
			t.Fatalf("physical %#x: %v %v, equal %v", pa, err1, err2, bytes.Equal(a, b))
		}
	}
	// makedumpfile --split: the parts joined by reassemble hold the same
	// pages as the single file.
	parts := []string{filepath.Join(dir, "part1"), filepath.Join(dir, "part2")}
	cmd = exec.Command(qemu, "-L", root, filepath.Join(root, "usr/bin/makedumpfile"), "--split", "-c", "-d", "31", d.Vmcore, parts[0], parts[1])
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("makedumpfile --split: %v\n%s", err, out)
	}
	joined := filepath.Join(dir, "vmcore.joined")
	if err := runReassemble(append(parts, joined), nil, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	j, err := dump.Open(joined)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if !bytes.Equal(j.Kdump().Dumped.Bytes(), km.Dumped.Bytes()) {
		t.Error("the joined split parts dump other pages than the single file")
	}
	for i, ok := km.Dumped.Next(0); ok; i, ok = km.Dumped.Next(i + 1) {
		pa := (i + km.PFNOffset) * 4096
		if err1, err2 := e.ReadPhys(a, pa), j.ReadPhys(b, pa); err1 != nil || err2 != nil || !bytes.Equal(a, b) {
			t.Fatalf("joined, physical %#x: %v %v, equal %v", pa, err1, err2, bytes.Equal(a, b))
		}
	}

	le, err1 := printk.ReadDump(e)
	lm, err2 := printk.ReadDump(m)
	if err1 != nil || err2 != nil || len(le.Records) == 0 || fmt.Sprint(le.Records) != fmt.Sprint(lm.Records) {
		t.Errorf("kernel log: %v %v", err1, err2)
	}
	for _, c := range []string{"sys", "ps"} {
		var x, y, errw bytes.Buffer
		if err := runAnalyze([]string{"-c", c, d.Vmlinux, d.Vmcore}, io.NopCloser(strings.NewReader("")), &x, &errw); err != nil {
			t.Fatalf("%s on the ELF: %v\n%s", c, err, errw.String())
		}
		if err := runAnalyze([]string{"-c", c, d.Vmlinux, theirs}, io.NopCloser(strings.NewReader("")), &y, &errw); err != nil {
			t.Fatalf("%s on makedumpfile's file: %v\n%s", c, err, errw.String())
		}
		strip := func(s string) string {
			var keep []string
			for _, l := range strings.Split(s, "\n") {
				if !strings.Contains(l, "DUMPFILE:") {
					keep = append(keep, l)
				}
			}
			return strings.Join(keep, "\n")
		}
		if strip(x.String()) != strip(y.String()) {
			t.Errorf("%s differs on makedumpfile's file:\n%s", c, diffLines(strip(x.String()), strip(y.String())))
		}
	}
}
