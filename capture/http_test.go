package capture

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kdumpkit/kdumpkit/protocol"
)

// startReceiver serves rc with the server settings `kdumpkit receive` uses.
func startReceiver(t *testing.T, rc *Receiver) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(rc)
	srv.Config = rc.Server()
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// quick bounds every phase of an HTTPTarget so the tests run in seconds.
func quick(label, url string) *HTTPTarget {
	return &HTTPTarget{Label: label, URL: url, DialTimeout: time.Second, HeaderTimeout: 500 * time.Millisecond, IdleTimeout: 500 * time.Millisecond}
}

// TestHTTPSilentReceiverFallsBack: a receiver that accepts connections and
// never reads or answers hung the capture kernel for ever; now the target
// fails within its timeouts and the dump goes to the next target.
func TestHTTPSilentReceiverFallsBack(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	held := make(chan net.Conn, 16)
	defer func() {
		for len(held) > 0 {
			(<-held).Close()
		}
	}()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held <- c // accepted, never read, never answered
		}
	}()
	fallback := t.TempDir()
	var console bytes.Buffer
	start := time.Now()
	m, err := Save(context.Background(), src(), []Target{quick("http", "http://"+ln.Addr().String()+"/"), &DirTarget{Label: "dir", Dir: fallback}}, &console)
	if err != nil || m.Target != "dir" {
		t.Fatalf("%+v, %v\n%s", m, err, console.String())
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("fallback took %s", d)
	}
	if !strings.Contains(console.String(), "capture: target http failed") || !strings.Contains(console.String(), "timeout") {
		t.Errorf("console:\n%s", console.String())
	}
}

// TestHTTPStalledBodyFallsBack: a receiver that stops reading in the
// middle of the vmcore makes the send block; the idle timeout ends it.
func TestHTTPStalledBodyFallsBack(t *testing.T) {
	rc := &Receiver{Dir: t.TempDir(), Log: io.Discard, Token: testToken}
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/"+VmcoreName) {
			io.CopyN(io.Discard, r.Body, 1<<20)
			<-release // stalls with the rest unread
			return
		}
		rc.ServeHTTP(w, r)
	}))
	defer srv.Close()
	// Runs before Close, which waits for the stalled handler.
	defer close(release)
	big := bytes.Repeat([]byte("0123456789abcdef"), 4<<20) // 64 MiB: more than loopback buffers hold
	s := Source{Vmcore: bytes.NewReader(big), VmcoreSize: int64(len(big)), Dmesg: []byte("log\n")}
	fallback := t.TempDir()
	var console bytes.Buffer
	m, err := Save(context.Background(), s, []Target{quick("http", withToken(srv.URL)), &DirTarget{Label: "dir", Dir: fallback}}, &console)
	if err != nil || m.Target != "dir" {
		t.Fatalf("%+v, %v\n%s", m, err, console.String())
	}
	if !strings.Contains(console.String(), ErrStalled.Error()) {
		t.Errorf("console does not say the receiver stalled:\n%s", console.String())
	}
	if _, err := ReadManifest(fallback); err != nil {
		t.Error(err)
	}
}

// TestHTTPTokenFromURL: the token in the target URL authorizes the upload;
// without it the receiver answers 401 and the capture falls back. The
// console never shows the token.
func TestHTTPTokenFromURL(t *testing.T) {
	const token = "tok-0123456789abcdef"
	dir := t.TempDir()
	srv := startReceiver(t, &Receiver{Dir: dir, Log: io.Discard, Token: token})
	withToken := protocol.Spec{Kind: "http", Arg: strings.Replace(srv.URL, "http://", "http://"+token+"@", 1) + "/"}
	var console bytes.Buffer
	fallback := t.TempDir()
	m, err := Save(context.Background(), src(), []Target{
		quick(protocol.Spec{Kind: "http", Arg: srv.URL + "/"}.Label(), srv.URL+"/"),
		quick(withToken.Label(), withToken.String()),
		&DirTarget{Label: "dir", Dir: fallback}}, &console)
	if err != nil || m.Target != withToken.Label() {
		t.Fatalf("%+v, %v\n%s", m, err, console.String())
	}
	if !strings.Contains(console.String(), "401 Unauthorized") {
		t.Errorf("console does not show the refusal:\n%s", console.String())
	}
	if strings.Contains(console.String(), token) {
		t.Errorf("console shows the token:\n%s", console.String())
	}
	if got, _ := filepath.Glob(filepath.Join(dir, "*", VmcoreName)); len(got) != 1 {
		t.Errorf("dumps filed: %v", got)
	}
}

// TestHTTPFiledAnswer: Commit learns the receiver's name for the dump,
// so a board (or a test) can tell where its dump went.
func TestHTTPFiledAnswer(t *testing.T) {
	dir := t.TempDir()
	srv := startReceiver(t, &Receiver{Dir: dir, Log: io.Discard, Token: testToken})
	target := quick("http", withToken(srv.URL))
	if _, err := Save(context.Background(), src(), []Target{target}, io.Discard); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, target.Filed, VmcoreName))
	if err != nil || !bytes.Equal(b, vmcore) {
		t.Errorf("filed as %q: %v", target.Filed, err)
	}
	if strings.Contains(target.Filed, dir) {
		t.Errorf("the answer names a host path: %q", target.Filed)
	}
}

// withToken is a receiver's base URL carrying testToken, as a board's
// kdumpkit.targets= names it.
func withToken(url string) string {
	return strings.Replace(url, "http://", "http://"+testToken+"@", 1) + "/"
}

// TestReceiverWithoutTokenServesNobody: a Receiver built without a token
// (a caller that forgot to set one) fails closed, refusing every upload,
// including one that carries a token.
func TestReceiverWithoutTokenServesNobody(t *testing.T) {
	dir := t.TempDir()
	srv := startReceiver(t, &Receiver{Dir: dir, Log: io.Discard})
	for _, url := range []string{srv.URL + "/", withToken(srv.URL)} {
		_, err := Save(context.Background(), src(), []Target{quick("http", url)}, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "401") {
			t.Errorf("%s: err = %v, want a 401 refusal", url, err)
		}
	}
	if got, _ := filepath.Glob(filepath.Join(dir, "*", VmcoreName)); len(got) != 0 {
		t.Errorf("dumps filed: %v", got)
	}
}
