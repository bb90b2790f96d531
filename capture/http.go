package capture

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kdumpkit/kdumpkit/protocol"
)

// HTTP upload protocol, for boards with Ethernet and no shared disk. Every
// request carries "Authorization: Bearer TOKEN", the token `kdumpkit
// receive` printed (else 401). One upload is one transaction:
//
//	POST   BASE/uploads              → 201, body: ID (an upload of its own)
//	PUT    BASE/uploads/ID/NAME      body: the file; header X-Kdumpkit-Size;
//	                                 trailer X-Kdumpkit-Sha256 → 201
//	POST   BASE/uploads/ID/commit    the manifest is in; the receiver checks
//	                                 every file and files the dump → 200,
//	                                 body: the dump's directory name
//	DELETE BASE/uploads/ID           abandon the upload → 204
//
// NAME is vmcore, dmesg.txt or manifest.json (IsDumpFile), anything else is
// refused before a byte is read. The receiver keeps each upload's files in
// a directory of its own, as NAME.part until length and hash check out,
// and drops an upload that stays idle and uncommitted. Refusals are 4xx
// with one line of text naming what was wrong in the request, never a
// host path or a host file's content.
const (
	hdrSize   = "X-Kdumpkit-Size"
	hdrSHA256 = "X-Kdumpkit-Sha256"
)

// ErrStalled means the receiver took no bytes for the idle timeout.
var ErrStalled = errors.New("the receiver stalled")

// Defaults for HTTPTarget's timeouts: generous for a board on a slow link
// and a receiver that syncs a big vmcore before it answers, short enough
// that a dead receiver costs a minute or two, not the dump.
const (
	DefaultDialTimeout   = 10 * time.Second
	DefaultHeaderTimeout = 60 * time.Second
	DefaultIdleTimeout   = 30 * time.Second
)

// HTTPTarget uploads the dump to `kdumpkit receive`.
type HTTPTarget struct {
	Label string
	URL   string // base, e.g. http://TOKEN@192.168.7.1:8123/
	// DialTimeout bounds connecting, HeaderTimeout waiting for an answer
	// once a request is sent, IdleTimeout a body send that makes no
	// progress; zero means the Default.
	DialTimeout, HeaderTimeout, IdleTimeout time.Duration
	// Filed is the receiver's name for the dump once Commit succeeded.
	Filed string

	once   sync.Once
	client *http.Client
	base   *url.URL
	token  string
	id     string // the open upload's ID, "" before the first Put
}

// Name is the label shown in fallback lines.
func (t *HTTPTarget) Name() string { return t.Label }

func orDuration(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// setup splits the token off the URL and builds a client whose every
// phase is bounded.
func (t *HTTPTarget) setup() error {
	t.once.Do(func() {
		u, err := url.Parse(t.URL)
		if err != nil {
			return
		}
		t.token = protocol.UploadToken(u)
		u.User = nil
		u.Path = strings.TrimRight(u.Path, "/")
		t.base = u
		dialer := &net.Dialer{Timeout: orDuration(t.DialTimeout, DefaultDialTimeout)}
		t.client = &http.Client{Transport: &http.Transport{
			DialContext:           dialer.DialContext,
			TLSHandshakeTimeout:   orDuration(t.DialTimeout, DefaultDialTimeout),
			ResponseHeaderTimeout: orDuration(t.HeaderTimeout, DefaultHeaderTimeout),
			TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
			DisableKeepAlives:     true,
		}}
	})
	if t.base == nil {
		return fmt.Errorf("%w: upload URL %q does not parse", protocol.ErrBadSpec, t.Label)
	}
	return nil
}

func (t *HTTPTarget) url(parts ...string) string {
	u := *t.base
	u.Path += "/" + strings.Join(parts, "/")
	return u.String()
}

// do sends one request with the token and wants status ok; the answer's
// first line comes back.
func (t *HTTPTarget) do(req *http.Request, ok int) (string, error) {
	if t.token != "" {
		req.Header.Set("Authorization", "Bearer "+t.token)
	}
	resp, err := t.client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	msg, err := io.ReadAll(io.LimitReader(resp.Body, 512))
	line, _, _ := strings.Cut(strings.TrimSpace(string(msg)), "\n")
	if resp.StatusCode != ok {
		return "", fmt.Errorf("%s %s: %s: %s", req.Method, req.URL, resp.Status, line)
	}
	return line, err
}

// begin opens the upload transaction the files go into.
func (t *HTTPTarget) begin(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, t.shortTimeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url("uploads"), nil)
	if err != nil {
		return err
	}
	id, err := t.do(req, http.StatusCreated)
	if err != nil {
		return err
	}
	if !validUploadID(id) {
		return fmt.Errorf("POST %s: the receiver answered %.40q, not an upload ID", t.url("uploads"), id)
	}
	t.id = id
	return nil
}

// shortTimeout bounds a request without a body: connect, then answer.
func (t *HTTPTarget) shortTimeout() time.Duration {
	return orDuration(t.DialTimeout, DefaultDialTimeout) + orDuration(t.HeaderTimeout, DefaultHeaderTimeout)
}

// Put streams one file; the hash goes in a trailer as it is only known at
// the end. A send that makes no progress for IdleTimeout fails with
// ErrStalled, so Save can fall back to the next target.
func (t *HTTPTarget) Put(ctx context.Context, name string, r io.Reader, size int64) (string, error) {
	if err := t.setup(); err != nil {
		return "", err
	}
	if t.id == "" {
		if err := t.begin(ctx); err != nil {
			return "", err
		}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	idle := orDuration(t.IdleTimeout, DefaultIdleTimeout)
	watch := time.AfterFunc(idle, func() { cancel(fmt.Errorf("%w: no byte taken for %s", ErrStalled, idle)) })
	defer watch.Stop()

	pr, pw := io.Pipe()
	body := &progressReader{r: pr, watch: watch, idle: idle}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, t.url("uploads", t.id, name), body)
	if err != nil {
		return "", err
	}
	req.ContentLength = -1 // chunked, so the trailer can follow
	req.Header.Set(hdrSize, strconv.FormatInt(size, 10))
	req.Trailer = http.Header{hdrSHA256: nil}
	shaDone := make(chan string, 1)
	go func() {
		s, err := copyHashed(pw, r, size)
		req.Trailer.Set(hdrSHA256, s)
		shaDone <- s
		pw.CloseWithError(err)
	}()
	_, err = t.do(req, http.StatusCreated)
	pr.CloseWithError(errors.New("request ended"))
	sha := <-shaDone // the copy has stopped reading r before Save moves on
	if cause := context.Cause(ctx); err != nil && cause != nil && errors.Is(cause, ErrStalled) {
		err = fmt.Errorf("PUT %s: %w", t.url("uploads", t.id, name), cause)
	}
	if err != nil {
		return "", err
	}
	return sha, nil
}

// progressReader re-arms the idle watch each time the transport takes
// bytes of the body; once the body is all sent, the header timeout takes
// over (the receiver syncs the file before it answers).
type progressReader struct {
	r     io.Reader
	watch *time.Timer
	idle  time.Duration
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if err == nil {
		p.watch.Reset(p.idle)
	} else {
		p.watch.Stop()
	}
	return n, err
}

// Commit asks the receiver to verify and file the dump.
func (t *HTTPTarget) Commit() error {
	if t.id == "" {
		return errors.New("commit: nothing was uploaded")
	}
	ctx, cancel := context.WithTimeout(context.Background(), t.shortTimeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url("uploads", t.id, "commit"), nil)
	if err != nil {
		return err
	}
	filed, err := t.do(req, http.StatusOK)
	if err != nil {
		return err
	}
	t.Filed, t.id = filed, ""
	return nil
}

// Abort asks the receiver to drop the partial upload; a receiver that
// cannot be reached drops it itself once it has been idle long enough.
func (t *HTTPTarget) Abort() {
	if t.id == "" || t.setup() != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), t.shortTimeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, t.url("uploads", t.id), nil)
	if err == nil {
		t.do(req, http.StatusNoContent)
	}
	t.id = ""
}
