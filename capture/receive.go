package capture

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Refusals of the receiver (protocol in http.go); each maps to one HTTP
// status, and its text names what in the request was wrong.
var (
	ErrUnauthorized   = errors.New("missing or wrong upload token")
	ErrNoRoute        = errors.New("not part of the upload protocol")
	ErrNoUpload       = errors.New("no such upload")
	ErrBadUpload      = errors.New("bad upload")
	ErrTooLarge       = errors.New("over the receiver's size limit")
	ErrUploadBusy     = errors.New("upload busy")
	ErrTooManyUploads = errors.New("too many uploads open")
)

// Receiver defaults. The vmcore is about the size of the board's RAM (448
// MiB for the 512 MiB vexpress): 32 GiB per file covers every board
// kdumpkit boots with room while bounding what one client can make the
// host store; an upload is a vmcore, its log and a manifest. A board that
// sends nothing for a minute is gone; its upload is dropped after ten.
const (
	DefaultMaxFile    = 32 << 30
	DefaultMaxUpload  = DefaultMaxFile + 1<<30
	DefaultMaxUploads = 32
	DefaultReadHeader = 10 * time.Second
	DefaultReadIdle   = time.Minute
	DefaultAbandon    = 10 * time.Minute
)

// Receiver is the host side of the upload: `kdumpkit receive`. Each upload
// is kept in Dir/.incoming/ID until it commits; a verified one becomes
// Dir/<time>-<ID>/.
type Receiver struct {
	Dir string
	Log io.Writer
	// Token is what every request must carry as "Authorization: Bearer
	// TOKEN"; empty turns the check off (the command always sets one).
	Token string
	// MaxFile and MaxUpload bound one file and one upload in bytes,
	// MaxUploads the uploads open at once; zero means the Default.
	MaxFile, MaxUpload int64
	MaxUploads         int
	// HeaderTimeout bounds reading a request's headers (Server),
	// ReadIdle a PUT whose body brings no byte, Abandon an uncommitted
	// upload nobody touches; zero means the Default.
	HeaderTimeout, ReadIdle, Abandon time.Duration
	// Received gets the directory of each filed dump.
	Received func(dir string)

	mu      sync.Mutex // guards uploads and their state, never held across I/O
	uploads map[string]*upload
	logMu   sync.Mutex
}

// upload is one transaction's state; Receiver.mu guards it.
type upload struct {
	id, dir    string
	files      map[string]FileInfo // received whole, with the hash computed here
	writing    map[string]int64    // names being received → declared size
	last       time.Time
	committing bool
	aborted    bool
}

// Server is an http.Server for rc whose slow clients cannot hold others
// up: headers must arrive in HeaderTimeout, idle connections close after a minute,
// and each body read is bounded by ReadIdle in the handler (a whole-body
// deadline would cut a big vmcore on a slow link).
func (rc *Receiver) Server() *http.Server {
	return &http.Server{
		Handler:           rc,
		ReadHeaderTimeout: time.Duration(rc.limit(int64(rc.HeaderTimeout), int64(DefaultReadHeader))),
		IdleTimeout:       time.Minute,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          log.New(rc.logWriter(), "receive: ", 0),
	}
}

func (rc *Receiver) logWriter() io.Writer {
	if rc.Log == nil {
		return io.Discard
	}
	return rc.Log
}

func (rc *Receiver) logf(format string, args ...any) {
	rc.logMu.Lock()
	defer rc.logMu.Unlock()
	fmt.Fprintf(rc.logWriter(), "receive: "+format+"\n", args...)
}

func (rc *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc.ReapIdle()
	ctl := http.NewResponseController(w)
	answer, status, err := rc.handle(r, ctl)
	ctl.SetWriteDeadline(time.Now().Add(30 * time.Second)) // unsupported by recorders: fine
	if err != nil {
		status = statusOf(err)
		msg := err.Error()
		if status == http.StatusInternalServerError || status == http.StatusInsufficientStorage {
			// Host errors stay in the host's log: they name host paths.
			rc.logf("%s %s: %v", r.Method, r.URL.Path, err)
			msg = http.StatusText(status) + " (see the receiver's log)"
		}
		// Close, so the server answers now instead of first reading
		// (up to 256 KiB of) a body that was refused or never comes.
		w.Header().Set("Connection", "close")
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="kdumpkit"`)
		}
		http.Error(w, msg, status)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	if answer != "" {
		fmt.Fprintln(w, answer)
	}
}

// handle checks the token, routes, and runs one protocol step.
func (rc *Receiver) handle(r *http.Request, ctl *http.ResponseController) (string, int, error) {
	if !rc.authorized(r) {
		return "", 0, ErrUnauthorized
	}
	id, name, err := route(r.URL.Path)
	if err != nil {
		return "", 0, err
	}
	switch {
	case r.Method == http.MethodPost && id == "":
		id, err := rc.open()
		if err == nil {
			rc.logf("upload %s opened by %s", id, r.RemoteAddr)
		}
		return id, http.StatusCreated, err
	case r.Method == http.MethodPut && name != "" && name != "commit":
		return "", http.StatusCreated, rc.put(r, ctl, id, name)
	case r.Method == http.MethodPost && name == "commit":
		filed, err := rc.commit(id)
		return filed, http.StatusOK, err
	case r.Method == http.MethodDelete && id != "" && name == "":
		return "", http.StatusNoContent, rc.abort(id)
	}
	return "", 0, fmt.Errorf("%w: %s %.80q", errMethod, r.Method, r.URL.Path)
}

var errMethod = fmt.Errorf("%w: want POST /uploads, PUT /uploads/ID/NAME, POST /uploads/ID/commit or DELETE /uploads/ID", ErrNoRoute)

// statusOf maps a refusal to its HTTP status; anything else is the host's
// fault.
func statusOf(err error) int {
	switch {
	case errors.Is(err, ErrUnauthorized):
		return http.StatusUnauthorized
	case errors.Is(err, errMethod):
		return http.StatusMethodNotAllowed
	case errors.Is(err, ErrNoUpload):
		return http.StatusNotFound
	case errors.Is(err, ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrUploadBusy):
		return http.StatusConflict
	case errors.Is(err, ErrTooManyUploads):
		return http.StatusServiceUnavailable
	case errors.Is(err, ErrNoRoute), errors.Is(err, ErrBadUpload), errors.Is(err, ErrBadManifest):
		return http.StatusBadRequest
	case errors.Is(err, syscall.ENOSPC):
		return http.StatusInsufficientStorage
	}
	return http.StatusInternalServerError
}

// authorized fails closed: a Receiver without a token serves nobody.
func (rc *Receiver) authorized(r *http.Request) bool {
	if rc.Token == "" {
		return false
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(got), []byte(rc.Token)) == 1
}

// route splits /uploads, /uploads/ID, /uploads/ID/NAME and
// /uploads/ID/commit; no other path, and no NAME outside the dump's
// fixed set, gets further.
func route(p string) (id, name string, err error) {
	parts := strings.Split(p, "/")
	switch {
	case len(parts) < 2 || len(parts) > 4 || parts[0] != "" || parts[1] != "uploads":
		return "", "", fmt.Errorf("%w: path %.80q", ErrNoRoute, p)
	case len(parts) >= 3 && !validUploadID(parts[2]):
		return "", "", fmt.Errorf("%w: %.80q is not an upload ID", ErrNoUpload, parts[2])
	case len(parts) == 4 && parts[3] != "commit" && !IsDumpFile(parts[3]):
		return "", "", fmt.Errorf("%w: %.80q is not %s, %s, %s or commit", ErrNoRoute, parts[3], VmcoreName, DmesgName, ManifestName)
	}
	parts = append(parts, "", "")
	return parts[2], parts[3], nil
}

// An upload ID is 16 lowercase hex digits.
func validUploadID(id string) bool {
	if len(id) != 16 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil && strings.ToLower(id) == id
}

func (rc *Receiver) limit(v, def int64) int64 {
	if v > 0 {
		return v
	}
	return def
}

// open starts a transaction with a directory of its own.
func (rc *Receiver) open() (string, error) {
	var raw [8]byte
	rand.Read(raw[:])
	id := hex.EncodeToString(raw[:])
	rc.mu.Lock()
	if rc.uploads == nil {
		rc.uploads = map[string]*upload{}
	}
	if len(rc.uploads) >= int(rc.limit(int64(rc.MaxUploads), DefaultMaxUploads)) {
		rc.mu.Unlock()
		return "", fmt.Errorf("%w: %d at once; try again later", ErrTooManyUploads, len(rc.uploads))
	}
	u := &upload{id: id, dir: filepath.Join(rc.Dir, ".incoming", id), files: map[string]FileInfo{}, writing: map[string]int64{}, last: time.Now()}
	rc.uploads[id] = u
	rc.mu.Unlock()
	err := os.MkdirAll(filepath.Dir(u.dir), 0o700)
	if err == nil {
		err = os.Mkdir(u.dir, 0o700) // fails if it exists: never share a directory
	}
	if err != nil {
		rc.forget(u)
		return "", err
	}
	return id, nil
}

func (rc *Receiver) forget(u *upload) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.uploads[u.id] == u {
		delete(rc.uploads, u.id)
	}
}

// ReapIdle drops uploads nobody has touched for Abandon: a board that
// died mid-upload must not leave its files to be mixed into anything.
// Every request runs it; a server that may see no request runs it on a
// timer too.
func (rc *Receiver) ReapIdle() {
	abandon := time.Duration(rc.limit(int64(rc.Abandon), int64(DefaultAbandon)))
	var dead []*upload
	rc.mu.Lock()
	for id, u := range rc.uploads {
		if !u.committing && len(u.writing) == 0 && time.Since(u.last) > abandon {
			u.aborted = true
			delete(rc.uploads, id)
			dead = append(dead, u)
		}
	}
	rc.mu.Unlock()
	for _, u := range dead {
		rc.logf("upload %s idle for %s, dropped", u.id, abandon)
		os.RemoveAll(u.dir)
	}
}

// put receives one file of an open upload: the declared size is checked
// against the caps before the body is read, the body is read up to that
// size and no further, and the file gets its final name only when length
// and trailer hash check out.
func (rc *Receiver) put(r *http.Request, ctl *http.ResponseController, id, name string) error {
	size, err := rc.declaredSize(r, name)
	if err != nil {
		return err
	}
	u, err := rc.reserve(id, name, size)
	if err != nil {
		return err
	}
	defer rc.release(u, name)
	// The old file of this name is void from now on, whatever comes of
	// this PUT: a failed one must not leave it looking received.
	if err := os.Remove(filepath.Join(u.dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	idle := time.Duration(rc.limit(int64(rc.ReadIdle), int64(DefaultReadIdle)))
	body := &idleReader{r: r.Body, ctl: ctl, idle: idle}
	fi, err := receiveFile(u.dir, name, size, body, r.Trailer)
	if err != nil {
		return err
	}
	rc.mu.Lock()
	u.files[name] = fi
	rc.mu.Unlock()
	return nil
}

// declaredSize reads X-Kdumpkit-Size and checks it, with the request's
// framing, before any byte of the body is read.
func (rc *Receiver) declaredSize(r *http.Request, name string) (int64, error) {
	vals := r.Header.Values(hdrSize)
	if len(vals) != 1 {
		return 0, fmt.Errorf("%w: %s: want one header %s with the byte count", ErrBadUpload, name, hdrSize)
	}
	size, err := strconv.ParseInt(vals[0], 10, 64)
	if err != nil || size < 0 {
		return 0, fmt.Errorf("%w: %s: header %s %.40q: want a byte count", ErrBadUpload, name, hdrSize, vals[0])
	}
	limit := rc.limit(rc.MaxFile, DefaultMaxFile)
	if name == ManifestName {
		limit = maxManifestSize
	}
	if size > limit {
		return 0, fmt.Errorf("%w: %s: %d bytes, the limit is %d", ErrTooLarge, name, size, limit)
	}
	if r.ContentLength >= 0 && r.ContentLength != size {
		return 0, fmt.Errorf("%w: %s: Content-Length %d, %s %d", ErrBadUpload, name, r.ContentLength, hdrSize, size)
	}
	if _, ok := r.Trailer[hdrSHA256]; !ok {
		return 0, fmt.Errorf("%w: %s: the body must be chunked with a trailer %s", ErrBadUpload, name, hdrSHA256)
	}
	return size, nil
}

// reserve marks name as being received, if the upload is open, no other
// request is receiving the same name, and the upload stays under its cap.
func (rc *Receiver) reserve(id, name string, size int64) (*upload, error) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	u, ok := rc.uploads[id]
	switch {
	case !ok:
		return nil, fmt.Errorf("%w: %s (committed, abandoned or never opened)", ErrNoUpload, id)
	case u.committing:
		return nil, fmt.Errorf("%w: %s is being committed", ErrUploadBusy, id)
	case hasKey(u.writing, name):
		return nil, fmt.Errorf("%w: %s is already being received", ErrUploadBusy, name)
	}
	total := size
	for n, f := range u.files {
		if n != name {
			total += f.Size
		}
	}
	for _, s := range u.writing {
		total += s
	}
	if limit := rc.limit(rc.MaxUpload, DefaultMaxUpload); total > limit {
		return nil, fmt.Errorf("%w: upload %s would hold %d bytes, the limit is %d", ErrTooLarge, id, total, limit)
	}
	delete(u.files, name) // a new PUT replaces the old file
	u.writing[name] = size
	u.last = time.Now()
	return u, nil
}

func hasKey(m map[string]int64, k string) bool { _, ok := m[k]; return ok }

// release ends a reservation; the last request of an aborted upload
// removes its directory.
func (rc *Receiver) release(u *upload, name string) {
	rc.mu.Lock()
	delete(u.writing, name)
	u.last = time.Now()
	gone := u.aborted && len(u.writing) == 0
	rc.mu.Unlock()
	if gone {
		os.RemoveAll(u.dir)
	}
}

// idleReader gives each body read ReadIdle to bring a byte, so a stalled
// board ends its own request and no one else's.
type idleReader struct {
	r    io.Reader
	ctl  *http.ResponseController
	idle time.Duration
}

func (i *idleReader) Read(p []byte) (int, error) {
	i.ctl.SetReadDeadline(time.Now().Add(i.idle)) // unsupported by recorders: fine
	return i.r.Read(p)
}

// hostError marks a failure of the host's disk, not of the request.
type hostError struct{ error }

func (e hostError) Unwrap() error { return e.error }

type hostWriter struct{ w io.Writer }

func (h hostWriter) Write(p []byte) (int, error) {
	n, err := h.w.Write(p)
	if err != nil {
		err = hostError{err}
	}
	return n, err
}

// receiveFile writes exactly size bytes of body to dir/NAME.part, checks
// that the body ends there and that the trailer has its sha256, syncs and
// renames it to dir/NAME.
func receiveFile(dir, name string, size int64, body io.Reader, trailer http.Header) (FileInfo, error) {
	final := filepath.Join(dir, name)
	part := final + ".part"
	f, err := os.OpenFile(part, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return FileInfo{}, err
	}
	sha, err := copyBody(hostWriter{f}, body, name, size)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && trailer.Get(hdrSHA256) != sha {
		err = fmt.Errorf("%w: %s: sha256 %s, the trailer says %.80q", ErrBadUpload, name, sha, trailer.Get(hdrSHA256))
	}
	if err == nil {
		err = os.Rename(part, final)
	}
	if err != nil {
		os.Remove(part)
		return FileInfo{}, err
	}
	return FileInfo{Name: name, Size: size, SHA256: sha}, nil
}

// copyBody copies the declared size and wants the body to end right
// there; it never reads more than one byte past, and never keeps it.
func copyBody(w io.Writer, body io.Reader, name string, size int64) (string, error) {
	h := sha256.New()
	n, err := io.CopyBuffer(io.MultiWriter(w, h), io.LimitReader(body, size), make([]byte, 1<<20))
	var host hostError
	switch {
	case errors.As(err, &host):
		return "", host.error
	case err != nil:
		return "", fmt.Errorf("%w: %s: after %d of %d bytes: %w", ErrBadUpload, name, n, size, err)
	case n != size:
		return "", fmt.Errorf("%w: %s: the body ended after %d of the %d bytes declared", ErrBadUpload, name, n, size)
	}
	var one [1]byte
	if k, err := io.ReadFull(body, one[:]); k > 0 {
		return "", fmt.Errorf("%w: %s: the body is longer than the %d bytes declared", ErrBadUpload, name, size)
	} else if err != io.EOF {
		return "", fmt.Errorf("%w: %s: after the body: %w", ErrBadUpload, name, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// commit checks the upload against its manifest and files it under a name
// no other upload can have.
func (rc *Receiver) commit(id string) (string, error) {
	u, files, err := rc.beginCommit(id)
	if err != nil {
		return "", err
	}
	filed, err := rc.file(u, files)
	rc.mu.Lock()
	u.committing = false
	if err == nil {
		delete(rc.uploads, id)
	}
	rc.mu.Unlock()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(rc.Dir, filed)
	rc.logf("dump saved in %s", dir)
	if rc.Received != nil {
		rc.Received(dir)
	}
	return filed, nil
}

// beginCommit freezes the upload: no PUT can start while it is verified.
func (rc *Receiver) beginCommit(id string) (*upload, map[string]FileInfo, error) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	u, ok := rc.uploads[id]
	switch {
	case !ok:
		return nil, nil, fmt.Errorf("%w: %s (committed, abandoned or never opened)", ErrNoUpload, id)
	case u.committing:
		return nil, nil, fmt.Errorf("%w: %s is already being committed", ErrUploadBusy, id)
	case len(u.writing) > 0:
		return nil, nil, fmt.Errorf("%w: %s: a file is still being received", ErrUploadBusy, id)
	}
	u.committing = true
	files := make(map[string]FileInfo, len(u.files))
	for n, f := range u.files {
		files[n] = f
	}
	return u, files, nil
}

// file verifies the received files against the manifest, then renames
// the upload's directory into Dir and syncs it.
func (rc *Receiver) file(u *upload, files map[string]FileInfo) (string, error) {
	if _, ok := files[ManifestName]; !ok {
		return "", fmt.Errorf("%w: commit before %s was received", ErrBadUpload, ManifestName)
	}
	data, err := os.ReadFile(filepath.Join(u.dir, ManifestName))
	if err != nil {
		return "", err
	}
	m, err := ParseManifest(data)
	if err != nil {
		return "", err
	}
	if err := matchManifest(m, files); err != nil {
		return "", err
	}
	name := time.Now().UTC().Format("20060102-150405.000") + "-" + u.id
	if err := os.Rename(u.dir, filepath.Join(rc.Dir, name)); err != nil {
		return "", err
	}
	syncDir(filepath.Join(rc.Dir, name)) // the renames of NAME.part within it
	syncDir(rc.Dir)
	return name, nil
}

// matchManifest wants the manifest to list exactly the files received
// (besides itself), with the sizes and hashes the receiver computed. The
// error speaks only of what the board sent.
func matchManifest(m *Manifest, files map[string]FileInfo) error {
	for _, want := range m.Files {
		got, ok := files[want.Name]
		switch {
		case !ok:
			return fmt.Errorf("%w: %s lists %s, which was not uploaded", ErrBadUpload, ManifestName, want.Name)
		case got.Size != want.Size || got.SHA256 != want.SHA256:
			return fmt.Errorf("%w: %s: received %d bytes sha256 %s, %s says %d bytes sha256 %s",
				ErrBadUpload, want.Name, got.Size, got.SHA256, ManifestName, want.Size, want.SHA256)
		}
	}
	for n := range files {
		if _, listed := m.File(n); !listed && n != ManifestName {
			return fmt.Errorf("%w: %s was uploaded but %s does not list it", ErrBadUpload, n, ManifestName)
		}
	}
	return nil
}

func syncDir(dir string) {
	if f, err := os.Open(dir); err == nil {
		f.Sync()
		f.Close()
	}
}

// abort drops an upload; a PUT still running finishes into nothing and
// removes the directory when it ends.
func (rc *Receiver) abort(id string) error {
	rc.mu.Lock()
	u, ok := rc.uploads[id]
	switch {
	case !ok:
		rc.mu.Unlock()
		return fmt.Errorf("%w: %s (committed, abandoned or never opened)", ErrNoUpload, id)
	case u.committing:
		rc.mu.Unlock()
		return fmt.Errorf("%w: %s is being committed", ErrUploadBusy, id)
	}
	u.aborted = true
	delete(rc.uploads, id)
	idle := len(u.writing) == 0
	rc.mu.Unlock()
	if idle {
		os.RemoveAll(u.dir)
	}
	rc.logf("upload %s abandoned by the board", id)
	return nil
}
