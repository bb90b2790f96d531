package capture

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// HTTP upload protocol, for boards with Ethernet and no shared disk:
//
//	PUT  BASE/NAME   body: the file; header X-Kdumpkit-Size; trailer X-Kdumpkit-Sha256
//	POST BASE/commit the manifest is in; the receiver checks every file and files the dump
//	DELETE BASE/     abandon the upload
//
// The receiver keeps files as NAME.part until length and hash check out.
const (
	hdrSize   = "X-Kdumpkit-Size"
	hdrSHA256 = "X-Kdumpkit-Sha256"
)

// HTTPTarget uploads the dump to `kdumpkit receive`.
type HTTPTarget struct {
	Label  string
	URL    string // base, e.g. http://192.168.7.1:8123/
	Client *http.Client
}

// Name is the label shown in fallback lines.
func (t *HTTPTarget) Name() string { return t.Label }

func (t *HTTPTarget) client() *http.Client {
	if t.Client != nil {
		return t.Client
	}
	return &http.Client{Timeout: 0}
}

func (t *HTTPTarget) url(p string) string { return strings.TrimRight(t.URL, "/") + "/" + p }

// Put streams one file; the hash goes in a trailer as it is only known at
// the end.
func (t *HTTPTarget) Put(ctx context.Context, name string, r io.Reader, size int64) (string, error) {
	pr, pw := io.Pipe()
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, t.url(name), pr)
	if err != nil {
		return "", err
	}
	req.ContentLength = -1 // chunked, so the trailer can follow
	req.Header.Set(hdrSize, strconv.FormatInt(size, 10))
	req.Trailer = http.Header{hdrSHA256: nil}
	var sha string
	go func() {
		s, err := copyHashed(pw, r, size)
		sha = s
		req.Trailer.Set(hdrSHA256, s)
		pw.CloseWithError(err)
	}()
	resp, err := t.client().Do(req)
	pr.CloseWithError(errors.New("request ended"))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return "", fmt.Errorf("PUT %s: %s: %s", t.url(name), resp.Status, strings.TrimSpace(string(msg)))
	}
	return sha, nil
}

// Commit asks the receiver to verify and file the dump.
func (t *HTTPTarget) Commit() error {
	resp, err := t.client().Post(t.url("commit"), "text/plain", nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("commit: %s: %s", resp.Status, strings.TrimSpace(string(msg)))
	}
	return nil
}

// Abort asks the receiver to drop the partial upload.
func (t *HTTPTarget) Abort() {
	req, err := http.NewRequest(http.MethodDelete, t.url(""), nil)
	if err == nil {
		if resp, err := t.client().Do(req); err == nil {
			resp.Body.Close()
		}
	}
}

// Receiver is the host side of the upload: `kdumpkit receive`. Dumps land
// in Dir/<time>/ once committed and verified.
type Receiver struct {
	Dir string
	Log io.Writer
	// Received gets the directory of each filed dump.
	Received func(dir string)

	mu sync.Mutex
}

func (rc *Receiver) incoming() string { return filepath.Join(rc.Dir, ".incoming") }

func (rc *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc.mu.Lock() // one upload at a time: a board sends one dump
	defer rc.mu.Unlock()
	name := path.Base(r.URL.Path)
	switch {
	case r.Method == http.MethodPut && name != "/" && name != "." && name != "commit":
		if err := rc.put(name, r); err != nil {
			fmt.Fprintf(rc.Log, "receive: %s: %v\n", name, err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusCreated)
	case r.Method == http.MethodPost && name == "commit":
		dir, err := rc.commit()
		if err != nil {
			fmt.Fprintf(rc.Log, "receive: commit: %v\n", err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprintf(rc.Log, "receive: dump saved in %s\n", dir)
		if rc.Received != nil {
			rc.Received(dir)
		}
		fmt.Fprintln(w, dir)
	case r.Method == http.MethodDelete:
		os.RemoveAll(rc.incoming())
		w.WriteHeader(http.StatusNoContent)
	default:
		http.Error(w, "want PUT NAME, POST commit or DELETE", http.StatusMethodNotAllowed)
	}
}

// put stores a body as NAME.part, checks its length and trailer hash,
// then renames it.
func (rc *Receiver) put(name string, r *http.Request) error {
	size, err := strconv.ParseInt(r.Header.Get(hdrSize), 10, 64)
	if err != nil || size < 0 {
		return fmt.Errorf("header %s %q: want a byte count", hdrSize, r.Header.Get(hdrSize))
	}
	if err := os.MkdirAll(rc.incoming(), 0o755); err != nil {
		return err
	}
	final := filepath.Join(rc.incoming(), name)
	part := final + ".part"
	f, err := os.Create(part)
	if err != nil {
		return err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), r.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	sum := hex.EncodeToString(h.Sum(nil))
	switch {
	case err != nil:
		err = fmt.Errorf("after %d of %d bytes: %w", n, size, err)
	case n != size:
		err = fmt.Errorf("got %d bytes, the sender announced %d", n, size)
	case r.Trailer.Get(hdrSHA256) != sum:
		err = fmt.Errorf("sha256 %s, the sender's trailer says %q", sum, r.Trailer.Get(hdrSHA256))
	}
	if err != nil {
		os.Remove(part)
		return err
	}
	return os.Rename(part, final)
}

// commit verifies the incoming set against its manifest and files it.
func (rc *Receiver) commit() (string, error) {
	if _, err := ReadManifest(rc.incoming()); err != nil {
		return "", err
	}
	dir := filepath.Join(rc.Dir, time.Now().UTC().Format("20060102-150405.000"))
	if err := os.Rename(rc.incoming(), dir); err != nil {
		return "", err
	}
	return dir, nil
}
