package kernelsrc

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kdumpkit/kdumpkit/boards"
)

// tarball writes a tiny kernel-shaped tree as a .tar.gz and returns its
// path and sha256.
func tarball(t *testing.T, top, makefile string) (string, string) {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for name, body := range map[string]string{top + "/Makefile": makefile, top + "/Kconfig": "mainmenu \"x\"\n"} {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg})
		tw.Write([]byte(body))
	}
	tw.Close()
	gz.Close()
	p := filepath.Join(t.TempDir(), top+".tar.gz")
	os.WriteFile(p, buf.Bytes(), 0o644)
	h := sha256.Sum256(buf.Bytes())
	return p, hex.EncodeToString(h[:])
}

const mk61 = "# SPDX\nVERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 192\nEXTRAVERSION =\n"

func board(srcs ...boards.Source) *boards.Board {
	return &boards.Board{Path: "test.toml", Kernel: boards.Kernel{Version: "6.1", Sources: srcs}}
}

func TestTarballSourceAndFallback(t *testing.T) {
	cache := t.TempDir()
	good, sum := tarball(t, "linux-6.1.192", mk61)
	var log bytes.Buffer
	tree, err := Resolve(context.Background(), board(
		boards.Source{Kind: "tarball", URL: "http://127.0.0.1:1/linux-6.1.192.tar.xz", SHA256: strings.Repeat("0", 64)},
		boards.Source{Kind: "tarball", URL: good, SHA256: sum},
	), cache, &log)
	if err != nil {
		t.Fatal(err)
	}
	if tree.Version != "6.1.192" || !strings.HasPrefix(tree.Dir, cache) {
		t.Errorf("tree %+v", tree)
	}
	if !strings.Contains(log.String(), "kernel source 1 of 2 (tarball http://127.0.0.1:1/linux-6.1.192.tar.xz) failed") ||
		!strings.Contains(log.String(), "kernel source: using tarball "+good) {
		t.Errorf("log:\n%s", log.String())
	}
	// Resolving again reuses the unpacked tree.
	again, err := Resolve(context.Background(), board(boards.Source{Kind: "tarball", URL: good, SHA256: sum}), cache, &log)
	if err != nil || again.ID != tree.ID {
		t.Errorf("second resolve: %+v, %v", again, err)
	}
}

func TestCorruptTarballLeavesNothing(t *testing.T) {
	cache := t.TempDir()
	bad := filepath.Join(t.TempDir(), "linux.tar.xz")
	os.WriteFile(bad, []byte("this is not a tarball"), 0o644)
	h := sha256.Sum256([]byte("this is not a tarball"))
	_, err := Resolve(context.Background(), board(boards.Source{Kind: "tarball", URL: bad, SHA256: hex.EncodeToString(h[:])}), cache, &bytes.Buffer{})
	if !errors.Is(err, ErrNoSource) || !strings.Contains(err.Error(), "unpacking "+bad) {
		t.Fatalf("err = %v", err)
	}
	ents, _ := os.ReadDir(filepath.Join(cache, "kernel-src"))
	if len(ents) != 0 {
		t.Errorf("left behind: %v", ents)
	}
}

func TestWrongSeriesRefused(t *testing.T) {
	p, sum := tarball(t, "linux-5.15.1", "VERSION = 5\nPATCHLEVEL = 15\nSUBLEVEL = 1\n")
	_, err := Resolve(context.Background(), board(boards.Source{Kind: "tarball", URL: p, SHA256: sum}), t.TempDir(), &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "is Linux 5.15.1, the board wants 6.1") {
		t.Errorf("err = %v", err)
	}
}

func TestMakefileVersion(t *testing.T) {
	p := filepath.Join(t.TempDir(), "Makefile")
	os.WriteFile(p, []byte("all:\n\techo\n"), 0o644)
	if _, err := MakefileVersion(p); err == nil {
		t.Error("accepted a non-kernel Makefile")
	}
}
