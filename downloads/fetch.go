package downloads

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/cavaliergopher/grab/v3"
)

// ErrHashMismatch means a file's SHA-256 is not the expected one.
var ErrHashMismatch = errors.New("sha256 mismatch")

// Spec says what to fetch and how to verify it.
type Spec struct {
	URL       string // http(s)://, file:// or a plain path
	SHA256    string // pinned hash; else Checksums must be set
	Checksums string // URL of a checksum file listing the file's base name
}

// Fetcher downloads into Dir (normally $XDG_CACHE_HOME/kdumpkit/downloads).
type Fetcher struct {
	Dir string
	Log io.Writer
	// HTTP is the client for checksum files and downloads; nil means one
	// with a short connect timeout, so an unreachable host fails fast.
	HTTP *http.Client
	// Progress shows a progress bar (a terminal); otherwise a log line is
	// written every LogEvery.
	Progress bool
	LogEvery time.Duration
	// IdleTimeout and IdleBytes: a source that sends fewer than IdleBytes
	// in any IdleTimeout is given up (0: DefaultIdleTimeout and
	// DefaultIdleBytes), so FetchFirst moves on to the next one.
	IdleTimeout time.Duration
	IdleBytes   int64
}

// idleWatch starts the stall detector for one request to what.
func (f *Fetcher) idleWatch(ctx context.Context, what string) *idleWatch {
	idle, min := f.IdleTimeout, f.IdleBytes
	if idle <= 0 {
		idle = DefaultIdleTimeout
	}
	if min <= 0 {
		min = DefaultIdleBytes
	}
	return newIdleWatch(ctx, idle, min, what)
}

// DefaultDir is the download cache shared by every kdumpkit checkout.
func DefaultDir() string {
	base := os.Getenv("XDG_CACHE_HOME")
	if base == "" {
		home, _ := os.UserHomeDir()
		base = filepath.Join(home, ".cache")
	}
	return filepath.Join(base, "kdumpkit", "downloads")
}

func (f *Fetcher) client() *http.Client {
	if f.HTTP != nil {
		return f.HTTP
	}
	d := &net.Dialer{Timeout: 10 * time.Second}
	return &http.Client{Transport: &http.Transport{
		Proxy: http.ProxyFromEnvironment, DialContext: d.DialContext,
		TLSHandshakeTimeout: 10 * time.Second, ResponseHeaderTimeout: 30 * time.Second,
	}}
}

func (f *Fetcher) logf(format string, args ...any) {
	if f.Log != nil {
		fmt.Fprintf(f.Log, format+"\n", args...)
	}
}

// Fetch returns the path of the verified file.
func (f *Fetcher) Fetch(ctx context.Context, s Spec) (string, error) {
	want, err := f.expectedHash(ctx, s)
	if err != nil {
		return "", err
	}
	u, err := url.Parse(s.URL)
	if err != nil || u.Scheme == "" || u.Scheme == "file" {
		p := s.URL
		if err == nil && u.Scheme == "file" {
			p = u.Path
		}
		return p, verifyFile(ctx, p, want, s.URL, false)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("%s: unsupported scheme %q, want http, https or file", s.URL, u.Scheme)
	}
	final := filepath.Join(f.Dir, want[:16]+"-"+path.Base(u.Path))
	if verifyStamp(final, want) {
		f.logf("download: %s: cached at %s", s.URL, final)
		return final, nil
	}
	if err := os.MkdirAll(f.Dir, 0o755); err != nil {
		return "", err
	}
	part := final + ".part"
	if err := f.get(ctx, s.URL, part); err != nil {
		return "", err
	}
	if err := verifyFile(ctx, part, want, s.URL, true); err != nil {
		return "", err
	}
	if err := os.Rename(part, final); err != nil {
		return "", err
	}
	writeStamp(final, want)
	return final, nil
}

// expectedHash is the pinned hash or the one the checksum file lists.
func (f *Fetcher) expectedHash(ctx context.Context, s Spec) (string, error) {
	if s.SHA256 != "" {
		if _, err := hex.DecodeString(s.SHA256); err != nil || len(s.SHA256) != 64 {
			return "", fmt.Errorf("%s: pinned sha256 %q is not 64 hex digits", s.URL, s.SHA256)
		}
		return strings.ToLower(s.SHA256), nil
	}
	if s.Checksums == "" {
		return "", fmt.Errorf("%s: no sha256 and no checksum file: refusing an unverified download", s.URL)
	}
	data, err := f.readSmall(ctx, s.Checksums)
	if err != nil {
		return "", fmt.Errorf("checksum file: %w", err)
	}
	u, _ := url.Parse(s.URL)
	name := path.Base(s.URL)
	if u != nil {
		name = path.Base(u.Path)
	}
	return lookupChecksum(data, name, s.Checksums)
}

// readSmall reads a checksum file by URL or path, at most MaxChecksumFile
// bytes either way, giving up on a server that stalls.
func (f *Fetcher) readSmall(ctx context.Context, loc string) ([]byte, error) {
	u, err := url.Parse(loc)
	if err != nil || u.Scheme == "" || u.Scheme == "file" {
		p := loc
		if err == nil && u.Scheme == "file" {
			p = u.Path
		}
		return readLocal(p, MaxChecksumFile)
	}
	w := f.idleWatch(ctx, loc)
	defer w.stop()
	req, err := http.NewRequestWithContext(w.ctx, http.MethodGet, loc, nil)
	if err != nil {
		return nil, err
	}
	resp, err := f.client().Do(req)
	if err != nil {
		return nil, w.err(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: HTTP %s", loc, resp.Status)
	}
	if resp.ContentLength > MaxChecksumFile {
		return nil, fmt.Errorf("%s: %w: Content-Length %d, at most %d", loc, ErrTooLarge, resp.ContentLength, MaxChecksumFile)
	}
	data, err := readLimited(idleReader{resp.Body, w}, MaxChecksumFile, loc)
	return data, w.err(err)
}

// get downloads url into part, resuming what an earlier cut left there,
// and gives up when no byte arrives for the idle timeout.
func (f *Fetcher) get(ctx context.Context, rawURL, part string) error {
	req, err := grab.NewRequest(part, rawURL)
	if err != nil {
		return err
	}
	w := f.idleWatch(ctx, rawURL)
	defer w.stop()
	req = req.WithContext(w.ctx)
	c := grab.NewClient()
	c.HTTPClient = f.client()
	c.UserAgent = "kdumpkit"
	resp := c.Do(req)
	if resp.DidResume {
		f.logf("download: %s: resuming at %d bytes", rawURL, resp.BytesComplete())
	}
	f.watch(resp, rawURL, w)
	if err := resp.Err(); err != nil {
		var sc grab.StatusCodeError
		if errors.As(err, &sc) {
			os.Remove(part)
			return fmt.Errorf("%s: HTTP %d %s", rawURL, int(sc), http.StatusText(int(sc)))
		}
		if idle := w.err(nil); idle != nil {
			f.logf("download: %s: giving up on this source: %v", rawURL, idle)
			return fmt.Errorf("%w (partial file kept for resume: %s)", idle, part)
		}
		return fmt.Errorf("%s: %w (partial file kept for resume: %s)", rawURL, err, part)
	}
	return nil
}

// verifyFile hashes p; on a mismatch it deletes p when owned (a download,
// never a user's file) and names both hashes.
func verifyFile(ctx context.Context, p, want, from string, owned bool) error {
	got, err := hashFile(ctx, p)
	if err != nil {
		return fmt.Errorf("%s: %w", from, err)
	}
	if got != want {
		if owned {
			os.Remove(p)
		}
		return fmt.Errorf("%s: %w: got %s, want %s", from, ErrHashMismatch, got, want)
	}
	return nil
}

// A stamp beside a verified file records its hash, size and mtime so a
// cached multi-hundred-MiB file is not re-hashed on every run.
func stampPath(p string) string { return p + ".sha256" }

func writeStamp(p, sum string) {
	st, err := os.Stat(p)
	if err == nil {
		os.WriteFile(stampPath(p), fmt.Appendf(nil, "%s %d %d\n", sum, st.Size(), st.ModTime().UnixNano()), 0o644)
	}
}

func verifyStamp(p, sum string) bool {
	st, err := os.Stat(p)
	if err != nil {
		return false
	}
	data, err := os.ReadFile(stampPath(p))
	return err == nil && string(data) == fmt.Sprintf("%s %d %d\n", sum, st.Size(), st.ModTime().UnixNano())
}

// FetchFirst tries specs in order and returns the first that works, with
// its index; each failure is logged in one line with its reason.
func (f *Fetcher) FetchFirst(ctx context.Context, specs []Spec) (string, int, error) {
	var errs []error
	for i, s := range specs {
		p, err := f.Fetch(ctx, s)
		if err == nil {
			return p, i, nil
		}
		f.logf("download: source %d (%s) failed: %v", i+1, s.URL, err)
		errs = append(errs, err)
	}
	return "", -1, fmt.Errorf("every source failed: %w", errors.Join(errs...))
}
