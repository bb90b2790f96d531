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
	"syscall"
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

// TestChecksumsExactNameWins: a path's base-name alias never replaces
// the hash of a line that lists that name itself, whatever the order, and
// a path ending in "/" gives no empty name.
func TestChecksumsExactNameWins(t *testing.T) {
	a, b := strings.Repeat("a", 64), strings.Repeat("b", 64)
	for _, text := range []string{
		a + "  x.tar.bz2\n" + b + "  out/x.tar.bz2\n",
		b + "  out/x.tar.bz2\n" + a + "  x.tar.bz2\n",
	} {
		m := ParseChecksums([]byte(text + b + "  dir/\n"))
		if m["x.tar.bz2"] != a || m["out/x.tar.bz2"] != b {
			t.Errorf("%q → %v", text, m)
		}
		if _, ok := m[""]; ok {
			t.Errorf("an empty name from %q", "dir/")
		}
	}
}

// FuzzParseChecksums: every name the parser returns is backed by the
// input, with the hash of the right line. The old invariant (64 characters
// and a name) held by construction and could not fail.
func FuzzParseChecksums(f *testing.F) {
	a, b := strings.Repeat("a", 64), strings.Repeat("B", 64)
	f.Add([]byte(a + "  linux.tar.xz\n"))
	f.Add([]byte("-----BEGIN PGP SIGNED MESSAGE-----\n- " + strings.Repeat("0", 64) + " *x\n"))
	f.Add([]byte(a + "  x.tar.bz2\n" + b + "  out/x.tar.bz2\n" + b + "  dir/\n" + a + "  *\n"))
	f.Add([]byte(a + "  a\u00a0b\n" + b + " \t x\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		got := ParseChecksums(data)
		lines := oracleLines(data)
		for name, h := range got {
			if _, err := hex.DecodeString(h); err != nil || len(h) != 64 || strings.ToLower(h) != h {
				t.Fatalf("%q → %q: not 64 lower-case hex digits", name, h)
			}
			if want, ok := lastLine(lines, func(n string) bool { return n == name }); ok {
				if h != want {
					t.Fatalf("%q → %s, its last line says %s", name, h, want)
				}
				continue
			}
			if want, ok := lastLine(lines, func(n string) bool { return strings.HasSuffix(n, "/"+name) }); !ok || h != want {
				t.Fatalf("%q → %s: no line lists it or a path ending in it with that hash", name, h)
			}
		}
		if len(data) < 1<<20 { // longer lines stop the scanner
			for _, l := range lines {
				if _, ok := got[l[1]]; !ok {
					t.Fatalf("line %q lost", l)
				}
			}
		}
	})
}

// oracleLines restates the sha256sum format independently of the parser:
// [hash, name] for each line of two fields whose first is 64 hex digits.
func oracleLines(data []byte) [][2]string {
	var out [][2]string
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(l), "- "))
		if len(f) != 2 || len(f[0]) != 64 || strings.Trim(strings.ToLower(f[0]), "0123456789abcdef") != "" {
			continue
		}
		if name := strings.TrimPrefix(f[1], "*"); name != "" {
			out = append(out, [2]string{strings.ToLower(f[0]), name})
		}
	}
	return out
}

func lastLine(lines [][2]string, match func(string) bool) (string, bool) {
	h, ok := "", false
	for _, l := range lines {
		if match(l[1]) {
			h, ok = l[0], true
		}
	}
	return h, ok
}

// TestLocalChecksumsBounded: a local checksum file is read like an HTTP
// body, bounded, and refused by name when it is not a regular file or is
// too large (a /dev/zero checksum file once ran the process out of memory).
func TestLocalChecksumsBounded(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "huge.sha256")
	if err := os.WriteFile(big, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Truncate(big, MaxChecksumFile+1)
	fifo := filepath.Join(dir, "fifo.sha256")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, checksums string
		want            error
	}{
		{"device", "/dev/zero", ErrNotRegular},
		{"fifo", fifo, ErrNotRegular},
		{"too large", big, ErrTooLarge},
		{"too large as file URL", "file://" + big, ErrTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, _ := fetcher(t)
			err := within(t, 10*time.Second, func() error {
				_, err := f.Fetch(context.Background(), Spec{URL: "http://127.0.0.1:1/linux.tar.xz", Checksums: tc.checksums})
				return err
			})
			name := strings.TrimPrefix(tc.checksums, "file://")
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), name) {
				t.Errorf("err = %v, want %v naming %s", err, tc.want, name)
			}
		})
	}
}

// TestRemoteChecksumsBounded: an HTTP checksum file over the limit is
// refused, not cut short and then searched.
func TestRemoteChecksumsBounded(t *testing.T) {
	line := []byte(sum(payload) + "  linux.tar.xz\n")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// No Content-Length: only the read limit can stop it.
		w.(http.Flusher).Flush()
		filler := bytes.Repeat([]byte("#\n"), 64<<10)
		for n := 0; n <= MaxChecksumFile; n += len(filler) {
			w.Write(filler)
		}
		w.Write(line)
	}))
	t.Cleanup(srv.Close)
	f, _ := fetcher(t)
	_, err := f.Fetch(context.Background(), Spec{URL: srv.URL + "/linux.tar.xz", Checksums: srv.URL + "/sha256sums"})
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), srv.URL+"/sha256sums") {
		t.Errorf("err = %v", err)
	}
}

// TestLocalSourceMustBeRegular: url = "/dev/zero" once hashed for ever.
func TestLocalSourceMustBeRegular(t *testing.T) {
	f, _ := fetcher(t)
	for _, u := range []string{"/dev/zero", "file:///dev/zero", t.TempDir()} {
		err := within(t, 10*time.Second, func() error {
			_, err := f.Fetch(context.Background(), Spec{URL: u, SHA256: sum(payload)})
			return err
		})
		if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), u) {
			t.Errorf("%s: err = %v", u, err)
		}
	}
}

// TestHashHonoursContext: a cancelled run stops hashing a large local file
// at once instead of reading it to the end.
func TestHashHonoursContext(t *testing.T) {
	big := filepath.Join(t.TempDir(), "big.tar.xz")
	os.WriteFile(big, nil, 0o644)
	os.Truncate(big, 4<<30) // sparse: reading it costs CPU, not disk
	f, _ := fetcher(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	_, err := f.Fetch(ctx, Spec{URL: big, SHA256: sum(payload)})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("a cancelled hash took %v", d)
	}
}

// TestStalledSourceFallsBack: a server that drips a byte a second, or
// sends nothing at all, is given up after the idle timeout, the log names
// it, and the next source is used.
func TestStalledSourceFallsBack(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/drip/linux.tar.xz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(len(payload)))
		w.WriteHeader(http.StatusOK)
		for i := 0; r.Context().Err() == nil && i < len(payload); i++ {
			w.Write(payload[i : i+1])
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
			case <-time.After(time.Second / 2):
			}
		}
	})
	mux.HandleFunc("/silent/", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	local := filepath.Join(t.TempDir(), "linux.tar.xz")
	os.WriteFile(local, payload, 0o644)
	for _, tc := range []struct{ name, url, checksums string }{
		{"dripping body", srv.URL + "/drip/linux.tar.xz", ""},
		{"silent server", srv.URL + "/silent/linux.tar.xz", ""},
		{"silent checksum file", srv.URL + "/drip/linux.tar.xz", srv.URL + "/silent/sha256sums"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, log := fetcher(t)
			f.IdleTimeout = time.Second
			first := Spec{URL: tc.url, SHA256: sum(payload)}
			if tc.checksums != "" {
				first = Spec{URL: tc.url, Checksums: tc.checksums}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			start := time.Now()
			p, i, err := f.FetchFirst(ctx, []Spec{first, {URL: local, SHA256: sum(payload)}})
			if err != nil || i != 1 || p != local {
				t.Fatalf("FetchFirst = %q, %d, %v\n%s", p, i, err, log)
			}
			if d := time.Since(start); d > 8*time.Second {
				t.Errorf("fallback took %v with a 1s idle timeout", d)
			}
			if !strings.Contains(log.String(), "source 1 ("+tc.url+") failed") || !strings.Contains(log.String(), "stalled") {
				t.Errorf("log does not name the stalled source:\n%s", log)
			}
		})
	}
}

// within runs fn and fails the test if it has not returned after d, so a
// read that blocks for ever fails instead of hanging the package's tests.
func within(t *testing.T, d time.Duration, fn func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		t.Fatalf("still running after %v", d)
		return nil
	}
}
