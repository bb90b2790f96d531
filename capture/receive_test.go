package capture

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kdumpkit/kdumpkit/internal/syncbuf"
)

const testToken = "test-token-0123456789"

// rawRequest sends text byte for byte, so no client cleans the path or
// fixes the framing, and returns the answer's status and body.
func rawRequest(t *testing.T, addr, text string) (int, string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, text); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("%q: %v", text, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// putText is a chunked PUT with the size header and sha256 trailer given.
func putText(path, token, size string, body []byte, sha string) string {
	return fmt.Sprintf("PUT %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n%s: %s\r\nTrailer: %s\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n%x\r\n%s\r\n0\r\n%s: %s\r\n\r\n",
		path, token, hdrSize, size, hdrSHA256, len(body), body, hdrSHA256, sha)
}

func postText(path, token string) string {
	return fmt.Sprintf("POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", path, token)
}

// openUpload starts a transaction and returns its ID.
func openUpload(t *testing.T, addr string) string {
	t.Helper()
	status, body := rawRequest(t, addr, postText("/uploads", testToken))
	if status != http.StatusCreated {
		t.Fatalf("open: %d %s", status, body)
	}
	return strings.TrimSpace(body)
}

func addrOf(srv *httptest.Server) string { return srv.Listener.Addr().String() }

// tree lists every path under root.
func tree(t *testing.T, root string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		rel, _ := filepath.Rel(root, p)
		out[rel] = true
		return nil
	})
	return out
}

// filedDumps lists the dump directories a receiver filed in dir.
func filedDumps(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.Name() != ".incoming" {
			out = append(out, e.Name())
		}
	}
	return out
}

// TestReceiverStaleUploadNeverFiled: a board that uploaded dmesg.txt and
// died left it in the shared incoming directory, and the next board's dump
// was filed with it. Now the stale upload is its own, and dropped when idle.
func TestReceiverStaleUploadNeverFiled(t *testing.T) {
	dir := t.TempDir()
	srv := startReceiver(t, &Receiver{Dir: dir, Log: io.Discard, Token: testToken, Abandon: 200 * time.Millisecond})
	stale := openUpload(t, addrOf(srv))
	old := []byte("stale log of a board that died\n")
	if status, body := rawRequest(t, addrOf(srv), putText("/uploads/"+stale+"/"+DmesgName, testToken, strconv.Itoa(len(old)), old, shaOf(old))); status != http.StatusCreated {
		t.Fatalf("%d %s", status, body)
	}
	s := src()
	s.Dmesg = nil // this board could not read its log
	target := quick("http", "http://"+testToken+"@"+addrOf(srv)+"/")
	if _, err := Save(context.Background(), s, []Target{target}, io.Discard); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, target.Filed, DmesgName)); err == nil {
		t.Errorf("the stale dmesg.txt was filed with %s", target.Filed)
	}
	time.Sleep(300 * time.Millisecond)
	status, _ := rawRequest(t, addrOf(srv), postText("/uploads/"+stale+"/commit", testToken))
	if status != http.StatusNotFound {
		t.Errorf("commit of an abandoned upload: %d", status)
	}
	if _, err := os.Stat(filepath.Join(dir, ".incoming", stale)); err == nil {
		t.Error("the abandoned upload's directory is still there")
	}
}

// TestReceiverStallDoesNotBlockOthers: one board stops sending in the
// middle of its vmcore; the others' uploads finish before the stalled
// request is ended by ReadIdle (a global lock held across the body read
// made every board wait).
func TestReceiverStallDoesNotBlockOthers(t *testing.T) {
	dir := t.TempDir()
	srv := startReceiver(t, &Receiver{Dir: dir, Log: io.Discard, Token: testToken, ReadIdle: 3 * time.Second})
	id := openUpload(t, addrOf(srv))
	c, err := net.Dial("tcp", addrOf(srv))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "PUT /uploads/%s/vmcore HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n%s: 1000000\r\nTrailer: %s\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n%s\r\n",
		id, testToken, hdrSize, hdrSHA256, strings.Repeat("x", 1024))
	stallEnded := make(chan time.Time, 1)
	go func() {
		c.SetReadDeadline(time.Now().Add(20 * time.Second))
		http.ReadResponse(bufio.NewReader(c), nil)
		stallEnded <- time.Now()
	}()
	time.Sleep(100 * time.Millisecond) // the stalled body is being read
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = Save(context.Background(), src(), []Target{quick("http", "http://"+testToken+"@"+addrOf(srv)+"/")}, io.Discard)
		}()
	}
	wg.Wait()
	othersDone := time.Now()
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if ended := <-stallEnded; ended.Before(othersDone) {
		t.Errorf("the stalled request ended before the others finished: they waited for it")
	}
	if _, err := os.Stat(filepath.Join(dir, ".incoming", id, VmcoreName+".part")); err == nil {
		t.Error("the stalled body's .part is still there")
	}
}

// TestReceiverSizeCapsBeforeBody: a declared size over the cap is refused
// with 413 before the body is read (this request never sends one), and the
// per-upload cap counts every file of the upload.
func TestReceiverSizeCapsBeforeBody(t *testing.T) {
	dir := t.TempDir()
	srv := startReceiver(t, &Receiver{Dir: dir, Log: io.Discard, Token: testToken, MaxFile: 1000, MaxUpload: 1500})
	id := openUpload(t, addrOf(srv))
	headOnly := func(name, size string) string {
		return fmt.Sprintf("PUT /uploads/%s/%s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n%s: %s\r\nTrailer: %s\r\nTransfer-Encoding: chunked\r\n\r\n",
			id, name, testToken, hdrSize, size, hdrSHA256)
	}
	for _, tc := range []struct{ name, size string }{
		{VmcoreName, "1001"}, {VmcoreName, "99999999999999999999"}, {ManifestName, "100000"},
	} {
		if status, body := rawRequest(t, addrOf(srv), headOnly(tc.name, tc.size)); status != http.StatusRequestEntityTooLarge && status != http.StatusBadRequest {
			t.Errorf("%s of %s bytes: %d %s", tc.name, tc.size, status, body)
		}
	}
	log := bytes.Repeat([]byte("l"), 800)
	if status, body := rawRequest(t, addrOf(srv), putText("/uploads/"+id+"/"+DmesgName, testToken, "800", log, shaOf(log))); status != http.StatusCreated {
		t.Fatalf("%d %s", status, body)
	}
	if status, body := rawRequest(t, addrOf(srv), headOnly(VmcoreName, "800")); status != http.StatusRequestEntityTooLarge {
		t.Errorf("upload over its cap: %d %s", status, body)
	}
	if _, err := os.Stat(filepath.Join(dir, ".incoming", id, VmcoreName+".part")); err == nil {
		t.Error("a refused PUT created a file")
	}
}

// TestReceiverRefusesHostileRequests: every path trick, foreign name,
// bad framing and forged manifest gets a 4xx, nothing appears outside DIR,
// nothing is filed, and no answer names a host path or a host file.
func TestReceiverRefusesHostileRequests(t *testing.T) {
	root := t.TempDir()
	secret := []byte("root:$6$hostsecret:19000:0:99999:7:::\n")
	os.WriteFile(filepath.Join(root, "shadow"), secret, 0o600)
	dir := filepath.Join(root, "dumps")
	os.Mkdir(dir, 0o755)
	srv := startReceiver(t, &Receiver{Dir: dir, Log: io.Discard, Token: testToken})
	addr := addrOf(srv)
	id := openUpload(t, addr)
	core := []byte("core")
	before := tree(t, root)
	up := "/uploads/" + id + "/"
	hostile := []struct{ what, req string }{
		{"no token", putText(up+VmcoreName, "", "4", core, shaOf(core))},
		{"wrong token", putText(up+VmcoreName, "test-token-0123456780", "4", core, shaOf(core))},
		{"PUT /x/..", putText("/x/..", testToken, "4", core, shaOf(core))},
		{"dot-dot name", putText(up+"..", testToken, "4", core, shaOf(core))},
		{"dot-dot path", putText(up+"../../shadow", testToken, "4", core, shaOf(core))},
		{"escaped dot-dot", putText(up+"..%2F..%2Fshadow", testToken, "4", core, shaOf(core))},
		{"foreign name", putText(up+"evil.sh", testToken, "4", core, shaOf(core))},
		{"part name", putText(up+"vmcore.part", testToken, "4", core, shaOf(core))},
		{"unknown upload", putText("/uploads/0123456789abcdef/vmcore", testToken, "4", core, shaOf(core))},
		{"upload ID path", putText("/uploads/../vmcore", testToken, "4", core, shaOf(core))},
		{"bad hash", putText(up+VmcoreName, testToken, "4", core, strings.Repeat("0", 64))},
		{"short body", putText(up+VmcoreName, testToken, "5", core, shaOf(core))},
		{"long body", putText(up+VmcoreName, testToken, "3", core, shaOf(core))},
		{"negative size", putText(up+VmcoreName, testToken, "-4", core, shaOf(core))},
		{"no trailer", "PUT " + up + "vmcore HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + testToken + "\r\nX-Kdumpkit-Size: 4\r\nContent-Length: 4\r\nConnection: close\r\n\r\ncore"},
		{"GET a dump", "GET /uploads/" + id + "/vmcore HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + testToken + "\r\nConnection: close\r\n\r\n"},
		{"DELETE /", "DELETE / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + testToken + "\r\nConnection: close\r\n\r\n"},
		{"commit before a manifest", postText(up+"commit", testToken)},
	}
	for _, h := range hostile {
		status, body := rawRequest(t, addr, h.req)
		if status < 400 || status > 499 {
			t.Errorf("%s: %d %s", h.what, status, body)
		}
		checkAnswer(t, h.what, body, root, secret)
	}
	// A forged manifest naming a host file with its true size and hash.
	rawRequest(t, addr, putText(up+VmcoreName, testToken, "4", core, shaOf(core)))
	for _, files := range [][]FileInfo{
		{{VmcoreName, 4, shaOf(core)}, {"../../shadow", int64(len(secret)), shaOf(secret)}},
		{{VmcoreName, 4, shaOf(core)}, {DmesgName, int64(len(secret)), shaOf(secret)}}, // listed, never uploaded
		{{VmcoreName, 5, shaOf(core)}},
	} {
		js, _ := json.Marshal(Manifest{Files: files})
		if status, body := rawRequest(t, addr, putText(up+ManifestName, testToken, strconv.Itoa(len(js)), js, shaOf(js))); status != http.StatusCreated {
			t.Fatalf("manifest: %d %s", status, body)
		}
		status, body := rawRequest(t, addr, postText(up+"commit", testToken))
		if status != http.StatusBadRequest {
			t.Errorf("commit of %+v: %d %s", files, status, body)
		}
		checkAnswer(t, fmt.Sprint(files), body, root, secret)
	}
	after := tree(t, root)
	for p := range after {
		if !before[p] && !strings.HasPrefix(p, "dumps"+string(filepath.Separator)+".incoming") {
			t.Errorf("new path %s", p)
		}
	}
	if d := filedDumps(t, dir); len(d) != 0 {
		t.Errorf("filed %v", d)
	}
}

// checkAnswer wants no host path and nothing of the host file in an answer.
func checkAnswer(t *testing.T, what, body, root string, secret []byte) {
	t.Helper()
	for _, leak := range []string{root, shaOf(secret), strings.TrimSpace(string(secret)), "hostsecret"} {
		if strings.Contains(body, leak) {
			t.Errorf("%s: the answer %q leaks %q", what, body, leak)
		}
	}
}

// FuzzReceiver drives the receiver with any method, path, size header,
// trailer and body inside a fresh upload ("{ID}" in the path stands for
// its ID), then commits it. Nothing may appear outside DIR, a refused PUT
// leaves no file under its name, and only a 200 commit files a dump, one
// that ReadManifest accepts.
func FuzzReceiver(f *testing.F) {
	js, _ := json.Marshal(Manifest{Files: []FileInfo{{VmcoreName, 4, shaOf([]byte("core"))}}})
	f.Add("PUT", "/uploads/{ID}/vmcore", "4", shaOf([]byte("core")), []byte("core"), true)
	f.Add("PUT", "/uploads/{ID}/manifest.json", strconv.Itoa(len(js)), shaOf(js), js, true)
	f.Add("PUT", "/uploads/{ID}/../../x", "1", "", []byte("x"), true)
	f.Add("PUT", "/x/..", "1", "", []byte("x"), false)
	f.Add("DELETE", "/uploads/{ID}", "", "", []byte(nil), true)
	f.Add("POST", "/uploads/{ID}/commit", "", "", []byte(nil), true)
	f.Fuzz(func(t *testing.T, method, path, size, trailer string, body []byte, auth bool) {
		root := t.TempDir()
		dir := filepath.Join(root, "dumps")
		rc := &Receiver{Dir: dir, Log: io.Discard, Token: testToken, MaxFile: 1 << 16}
		id := strings.TrimSpace(serveOne(rc, "POST", "/uploads", nil, nil, true).Body.String())
		// A valid vmcore first, so a fuzzed manifest can commit.
		core := []byte("core")
		serveOne(rc, "PUT", "/uploads/"+id+"/vmcore", http.Header{hdrSize: {"4"}}, core, true)
		path = strings.ReplaceAll(path, "{ID}", id)
		before := tree(t, root)
		h := http.Header{}
		if size != "" {
			h.Set(hdrSize, size)
		}
		w := serveOneTrailer(rc, method, path, h, body, trailer, auth)
		ok := w.Code >= 200 && w.Code < 300
		for p := range tree(t, root) {
			if !ok && !before[p] {
				t.Fatalf("%s %q answered %d but left %s", method, path, w.Code, p)
			}
		}
		if strings.Contains(w.Body.String(), root) {
			t.Fatalf("answer %q names a host path", w.Body.String())
		}
		cw := serveOne(rc, "POST", "/uploads/"+id+"/commit", nil, nil, true)
		dumps := filedDumps(t, dir)
		switch {
		case cw.Code == http.StatusOK && len(dumps) != 1:
			t.Fatalf("commit answered 200, dumps filed: %v", dumps)
		case cw.Code != http.StatusOK && len(dumps) != 0 && !(ok && strings.HasSuffix(path, "/commit")):
			t.Fatalf("commit answered %d, dumps filed: %v", cw.Code, dumps)
		}
		for _, d := range dumps {
			if _, err := ReadManifest(filepath.Join(dir, d)); err != nil {
				t.Fatalf("filed dump %s: %v", d, err)
			}
		}
		if ents, _ := os.ReadDir(root); len(ents) > 1 {
			t.Fatalf("outside DIR: %v", ents)
		}
	})
}

func serveOne(rc *Receiver, method, path string, h http.Header, body []byte, auth bool) *httptest.ResponseRecorder {
	sha := shaOf(body)
	return serveOneTrailer(rc, method, path, h, body, sha, auth)
}

// serveOneTrailer builds the request by hand: httptest.NewRequest refuses
// (panics on) the odd methods and paths the fuzzer finds.
func serveOneTrailer(rc *Receiver, method, path string, h http.Header, body []byte, trailer string, auth bool) *httptest.ResponseRecorder {
	if h == nil {
		h = http.Header{}
	}
	if auth {
		h.Set("Authorization", "Bearer "+testToken)
	}
	r := &http.Request{Method: method, URL: &url.URL{Path: path}, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Body: io.NopCloser(bytes.NewReader(body)), ContentLength: -1, Host: "x", RemoteAddr: "192.0.2.1:1234",
		Trailer: http.Header{hdrSHA256: {trailer}}}
	w := httptest.NewRecorder()
	rc.ServeHTTP(w, r)
	return w
}

// TestReceiverSlowHeadersCut: a client that dribbles its headers is cut
// off after HeaderTimeout, and others are served meanwhile.
func TestReceiverSlowHeadersCut(t *testing.T) {
	srv := startReceiver(t, &Receiver{Dir: t.TempDir(), Log: io.Discard, Token: testToken, HeaderTimeout: 500 * time.Millisecond})
	c, err := net.Dial("tcp", addrOf(srv))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "POST /uploads HTTP/1.1\r\nHost: x\r\n") // and no more
	openUpload(t, addrOf(srv))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	_, err = c.Read(make([]byte, 512))
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("the connection with unfinished headers is still open after %s", time.Since(start))
	}
}

// TestReceiverTooManyUploads: past MaxUploads open uploads a board is
// told 503, with a reason, instead of sharing anything.
func TestReceiverTooManyUploads(t *testing.T) {
	srv := startReceiver(t, &Receiver{Dir: t.TempDir(), Log: io.Discard, Token: testToken, MaxUploads: 2})
	openUpload(t, addrOf(srv))
	openUpload(t, addrOf(srv))
	status, body := rawRequest(t, addrOf(srv), postText("/uploads", testToken))
	if status != http.StatusServiceUnavailable || !strings.Contains(body, "too many uploads") {
		t.Errorf("%d %s", status, body)
	}
}

// TestReceiverHostErrorsStayInLog: a failure of the host (here DIR is a
// file) answers 500 without the host path, which goes to the log.
func TestReceiverHostErrorsStayInLog(t *testing.T) {
	notDir := filepath.Join(t.TempDir(), "file")
	os.WriteFile(notDir, nil, 0o644)
	var log syncbuf.Buffer
	srv := startReceiver(t, &Receiver{Dir: notDir, Log: &log, Token: testToken})
	status, body := rawRequest(t, addrOf(srv), postText("/uploads", testToken))
	if status != http.StatusInternalServerError || strings.Contains(body, notDir) {
		t.Errorf("%d %q", status, body)
	}
	if !strings.Contains(log.String(), notDir) {
		t.Errorf("the log does not name the cause:\n%s", log.String())
	}
}
