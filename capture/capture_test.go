package capture

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

var vmcore = bytes.Repeat([]byte("vmcore-bytes-0123456789abcdef\n"), 100000) // ~3 MiB

func src() Source {
	return Source{Vmcore: bytes.NewReader(vmcore), VmcoreSize: int64(len(vmcore)), Dmesg: []byte("[    0.000000] Booting Linux\n"), Release: "6.1.0"}
}

func shaOf(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// fullDisk fails with ENOSPC once limit bytes were written.
type fullDisk struct {
	f     *os.File
	limit int64
	n     int64
	short bool // return a short write with no error instead
}

func (w *fullDisk) Write(p []byte) (int, error) {
	if w.n+int64(len(p)) > w.limit {
		k := w.limit - w.n
		w.f.Write(p[:k])
		w.n += k
		if w.short {
			return int(k), nil
		}
		return int(k), &os.PathError{Op: "write", Path: w.f.Name(), Err: syscall.ENOSPC}
	}
	w.n += int64(len(p))
	return w.f.Write(p)
}
func (w *fullDisk) Close() error { return w.f.Close() }

func looksComplete(t *testing.T, dir string) []string {
	t.Helper()
	var names []string
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.Name() == VmcoreName || e.Name() == ManifestName {
			names = append(names, e.Name())
		}
	}
	return names
}

func TestFallbackOnFullTarget(t *testing.T) {
	for _, short := range []bool{false, true} {
		full, good := t.TempDir(), t.TempDir()
		first := &DirTarget{Label: "9p:/dump", Dir: full, Create: func(p string) (io.WriteCloser, error) {
			f, err := os.Create(p)
			return &fullDisk{f: f, limit: 1 << 20, short: short}, err
		}}
		var console bytes.Buffer
		m, err := Save(context.Background(), src(), []Target{first, &DirTarget{Label: "dir:/mnt", Dir: good}}, &console)
		if err != nil {
			t.Fatal(err)
		}
		if m.Target != "dir:/mnt" {
			t.Errorf("saved on %s", m.Target)
		}
		if got := looksComplete(t, full); len(got) != 0 {
			t.Errorf("short=%v: the full target keeps %v", short, got)
		}
		if ents, _ := os.ReadDir(full); len(ents) != 0 {
			t.Errorf("short=%v: the full target keeps %v (dmesg.txt without a vmcore misleads)", short, ents)
		}
		want := "capture: target 9p:/dump failed: write vmcore: "
		if !strings.Contains(console.String(), want) || !strings.Contains(console.String(), "; trying dir:/mnt") {
			t.Errorf("console:\n%s", console.String())
		}
		if !short && !strings.Contains(console.String(), "no space left on device") {
			t.Errorf("console does not name ENOSPC:\n%s", console.String())
		}
		got, err := ReadManifest(good)
		if err != nil {
			t.Fatal(err)
		}
		if f, _ := got.File(VmcoreName); f.SHA256 != shaOf(vmcore) || f.Size != int64(len(vmcore)) {
			t.Errorf("manifest %+v", got)
		}
	}
}

// badSource fails reading at an offset, like a flaky /proc/vmcore.
type badSource struct{ at int64 }

func (b badSource) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > b.at {
		n := max(0, int(b.at-off))
		copy(p, vmcore[off:off+int64(n)])
		return n, syscall.EIO
	}
	return copy(p, vmcore[off:]), nil
}

func TestSourceReadErrorNeverLooksComplete(t *testing.T) {
	dirs := []string{t.TempDir(), t.TempDir()}
	s := src()
	s.Vmcore = badSource{at: 2 << 20}
	var console bytes.Buffer
	_, err := Save(context.Background(), s, []Target{&DirTarget{Label: "a", Dir: dirs[0]}, &DirTarget{Label: "b", Dir: dirs[1]}}, &console)
	if !errors.Is(err, ErrAllTargetsFailed) || !errors.Is(err, syscall.EIO) {
		t.Fatalf("err = %v", err)
	}
	for _, d := range dirs {
		if ents, _ := os.ReadDir(d); len(ents) != 0 {
			t.Errorf("%s keeps %v", d, ents)
		}
	}
	if !strings.Contains(console.String(), "reading the vmcore at offset 0x200000: input/output error") ||
		!strings.Contains(console.String(), "target b failed") || !strings.Contains(console.String(), "no targets left") {
		t.Errorf("console:\n%s", console.String())
	}
}

func TestHTTPUploadOnLoopback(t *testing.T) {
	dir := t.TempDir()
	var got string
	rc := &Receiver{Dir: dir, Log: io.Discard, Token: "tok", Received: func(d string) { got = d }}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	m, err := Save(context.Background(), src(), []Target{&HTTPTarget{Label: "http", URL: strings.Replace(srv.URL, "//", "//tok@", 1) + "/"}}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ReadManifest(got)
	if err != nil {
		t.Fatal(err)
	}
	if f, _ := back.File(VmcoreName); f.SHA256 != shaOf(vmcore) || back.Target != m.Target {
		t.Errorf("manifest %+v", back)
	}
}

// TestHTTPCutHalfWay: a proxy that drops the connection after 1 MiB.
func TestHTTPCutHalfWay(t *testing.T) {
	dir := t.TempDir()
	rc := &Receiver{Dir: dir, Log: io.Discard, Token: "tok"}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	ln := cuttingProxy(t, srv.Listener.Addr().String(), 1<<20)
	fallback := t.TempDir()
	var console bytes.Buffer
	m, err := Save(context.Background(), src(), []Target{
		&HTTPTarget{Label: "http://proxy", URL: fmt.Sprintf("http://tok@%s/", ln.Addr())},
		&DirTarget{Label: "dir", Dir: fallback}}, &console)
	if err != nil || m.Target != "dir" {
		t.Fatalf("%+v, %v", m, err)
	}
	if !strings.Contains(console.String(), "capture: target http://proxy failed") {
		t.Errorf("console:\n%s", console.String())
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		sub, _ := os.ReadDir(filepath.Join(dir, e.Name()))
		for _, s := range sub {
			if s.Name() == VmcoreName || s.Name() == ManifestName {
				t.Errorf("receiver keeps %s/%s after a cut upload", e.Name(), s.Name())
			}
		}
		if e.Name() != ".incoming" {
			t.Errorf("receiver filed a dump %s from a cut upload", e.Name())
		}
	}
}

// cuttingProxy listens on loopback and forwards each connection to
// upstream, hanging up both ways after limit bytes from the client: a
// network that fails half way through an upload.
func cuttingProxy(t *testing.T, upstream string, limit int64) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				defer c.Close()
				up, err := net.Dial("tcp", upstream)
				if err != nil {
					return
				}
				defer up.Close()
				go io.Copy(c, up)
				io.CopyN(up, c, limit)
			}(c)
		}
	}()
	return ln
}
