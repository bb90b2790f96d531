package downloads

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// payload is large enough that a cut half-way leaves a real partial file.
var payload = bytes.Repeat([]byte("kdumpkit-test-payload-0123456789\n"), 40000)

func sum(b []byte) string { h := sha256.Sum256(b); return hex.EncodeToString(h[:]) }

// server serves /linux.tar.xz with Range support, /sha256sums.asc, and can
// hang up half-way through the first body it sends.
type server struct {
	*httptest.Server
	mu          sync.Mutex
	cutFirst    bool
	ranges      []string
	data        []byte
	gets, heads int
}

func newServer(t *testing.T, data []byte, cutFirst bool) *server {
	s := &server{data: data, cutFirst: cutFirst}
	mux := http.NewServeMux()
	mux.HandleFunc("/linux.tar.xz", s.file)
	mux.HandleFunc("/sha256sums.asc", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n%s  linux-other.tar.xz\n%s  linux.tar.xz\n-----BEGIN PGP SIGNATURE-----\nxxxx\n-----END PGP SIGNATURE-----\n",
			strings.Repeat("ab", 32), sum(data))
	})
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func (s *server) file(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if r.Method == http.MethodHead {
		s.heads++
	} else {
		s.gets++
	}
	if rg := r.Header.Get("Range"); rg != "" {
		s.ranges = append(s.ranges, rg)
	}
	cut := s.cutFirst && r.Method == http.MethodGet
	s.cutFirst = s.cutFirst && !cut
	s.mu.Unlock()
	if cut {
		// Promise the whole body, send half, hang up.
		w.Header().Set("Content-Length", fmt.Sprint(len(s.data)))
		w.Header().Set("Accept-Ranges", "bytes")
		w.WriteHeader(http.StatusOK)
		w.Write(s.data[:len(s.data)/2])
		w.(http.Flusher).Flush()
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
		return
	}
	http.ServeContent(w, r, "linux.tar.xz", time.Unix(0, 0), bytes.NewReader(s.data))
}

func fetcher(t *testing.T) (*Fetcher, *bytes.Buffer) {
	var log bytes.Buffer
	return &Fetcher{Dir: t.TempDir(), Log: &log, LogEvery: time.Hour}, &log
}

func TestPinnedHash(t *testing.T) {
	s := newServer(t, payload, false)
	f, _ := fetcher(t)
	p, err := f.Fetch(context.Background(), Spec{URL: s.URL + "/linux.tar.xz", SHA256: sum(payload)})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(p); !bytes.Equal(got, payload) {
		t.Fatal("content differs")
	}
	// A second fetch is served from the cache: no new GET.
	gets := s.gets
	if _, err := f.Fetch(context.Background(), Spec{URL: s.URL + "/linux.tar.xz", SHA256: sum(payload)}); err != nil || s.gets != gets {
		t.Errorf("second fetch: err %v, GETs %d → %d", err, gets, s.gets)
	}
}

func TestChecksumFileHash(t *testing.T) {
	s := newServer(t, payload, false)
	f, _ := fetcher(t)
	p, err := f.Fetch(context.Background(), Spec{URL: s.URL + "/linux.tar.xz", Checksums: s.URL + "/sha256sums.asc"})
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(p) != f.Dir {
		t.Errorf("path %s not in the cache %s", p, f.Dir)
	}
	_, err = f.Fetch(context.Background(), Spec{URL: s.URL + "/linux-absent.tar.xz", Checksums: s.URL + "/sha256sums.asc"})
	if !errors.Is(err, ErrNoChecksum) {
		t.Errorf("file missing from checksums: %v", err)
	}
}

func TestMismatchDeletesAndNamesBothHashes(t *testing.T) {
	s := newServer(t, payload, false)
	f, _ := fetcher(t)
	wrong := strings.Repeat("0", 64)
	_, err := f.Fetch(context.Background(), Spec{URL: s.URL + "/linux.tar.xz", SHA256: wrong})
	if !errors.Is(err, ErrHashMismatch) || !strings.Contains(err.Error(), wrong) || !strings.Contains(err.Error(), sum(payload)) {
		t.Fatalf("err = %v", err)
	}
	ents, _ := os.ReadDir(f.Dir)
	if len(ents) != 0 {
		t.Errorf("cache keeps %v after a mismatch", ents)
	}
}

func TestResumeAfterCut(t *testing.T) {
	s := newServer(t, payload, true)
	f, _ := fetcher(t)
	spec := Spec{URL: s.URL + "/linux.tar.xz", SHA256: sum(payload)}
	if _, err := f.Fetch(context.Background(), spec); err == nil {
		t.Fatal("the cut download succeeded")
	}
	parts, _ := filepath.Glob(filepath.Join(f.Dir, "*.part"))
	if len(parts) != 1 {
		t.Fatalf("partial files %v", parts)
	}
	if st, _ := os.Stat(parts[0]); st.Size() == 0 || st.Size() >= int64(len(payload)) {
		t.Fatalf("partial size %d of %d", st.Size(), len(payload))
	}
	if final, _ := filepath.Glob(filepath.Join(f.Dir, "*.tar.xz")); len(final) != 0 {
		t.Fatalf("a cut download carries the final name: %v", final)
	}
	p, err := f.Fetch(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(p); !bytes.Equal(got, payload) {
		t.Fatal("resumed content differs")
	}
	if len(s.ranges) != 1 || !strings.HasPrefix(s.ranges[0], fmt.Sprintf("bytes=%d-", len(payload)/2)) {
		t.Errorf("Range headers %v, want one resuming at %d", s.ranges, len(payload)/2)
	}
}

func TestFallbackToNextSource(t *testing.T) {
	s := newServer(t, payload, false)
	f, log := fetcher(t)
	local := filepath.Join(t.TempDir(), "linux.tar.xz")
	os.WriteFile(local, payload, 0o644)
	p, i, err := f.FetchFirst(context.Background(), []Spec{
		{URL: s.URL + "/missing.tar.xz", SHA256: sum(payload)},
		{URL: "file://" + local, SHA256: sum(payload)},
	})
	if err != nil || i != 1 || p != local {
		t.Fatalf("FetchFirst = %q, %d, %v", p, i, err)
	}
	if !strings.Contains(log.String(), "source 1 ("+s.URL+"/missing.tar.xz) failed") || !strings.Contains(log.String(), "404") {
		t.Errorf("log does not say why source 1 failed:\n%s", log)
	}
}

func TestFileURLAndPlainPath(t *testing.T) {
	f, _ := fetcher(t)
	local := filepath.Join(t.TempDir(), "x.tar.xz")
	os.WriteFile(local, payload, 0o644)
	for _, u := range []string{"file://" + local, local} {
		if p, err := f.Fetch(context.Background(), Spec{URL: u, SHA256: sum(payload)}); err != nil || p != local {
			t.Errorf("%s: %q, %v", u, p, err)
		}
	}
	// A user's file with the wrong hash is reported, never deleted.
	_, err := f.Fetch(context.Background(), Spec{URL: local, SHA256: strings.Repeat("1", 64)})
	if !errors.Is(err, ErrHashMismatch) {
		t.Errorf("err = %v", err)
	}
	if _, err := os.Stat(local); err != nil {
		t.Error("a user's file was deleted on mismatch")
	}
}

func TestUnreachableFailsFast(t *testing.T) {
	f, _ := fetcher(t)
	start := time.Now()
	// Port 1 on loopback refuses at once.
	_, err := f.Fetch(context.Background(), Spec{URL: "http://127.0.0.1:1/linux.tar.xz", Checksums: "http://127.0.0.1:1/sha256sums.asc"})
	if err == nil || !strings.Contains(err.Error(), "checksum file") {
		t.Errorf("err = %v", err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Logf("unreachable host took %v", d)
	}
}

func TestParseChecksums(t *testing.T) {
	h := strings.Repeat("c", 64)
	m := ParseChecksums([]byte("- " + h + "  linux-6.1.1.tar.xz\n" + strings.ToUpper(h) + " *tool.tar.bz2\n" +
		h + "  out/armv7/x.tar.bz2\nnot a line\n" + h[:60] + "  short\n"))
	for name, want := range map[string]string{"linux-6.1.1.tar.xz": h, "tool.tar.bz2": h, "x.tar.bz2": h} {
		if m[name] != want {
			t.Errorf("%s = %q", name, m[name])
		}
	}
	if _, ok := m["short"]; ok {
		t.Error("accepted a short hash")
	}
}

func FuzzParseChecksums(f *testing.F) {
	f.Add([]byte(strings.Repeat("a", 64) + "  linux.tar.xz\n"))
	f.Add([]byte("-----BEGIN PGP SIGNED MESSAGE-----\n- " + strings.Repeat("0", 64) + " *x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for name, h := range ParseChecksums(data) {
			if len(h) != 64 || name == "" {
				t.Fatalf("%q → %q", name, h)
			}
		}
	})
}
