package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kdumpkit/kdumpkit/capture"
	"github.com/kdumpkit/kdumpkit/internal/syncbuf"
)

const testToken = "receive-test-token-0123"

func TestReceiveOnce(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	var out syncbuf.Buffer
	done := make(chan error, 1)
	go func() {
		done <- runReceive([]string{"-listen", addr, "-dir", dir, "-once", "-token", testToken}, nil, &out, &out)
	}()
	vmcore := bytes.Repeat([]byte("core"), 1<<18)
	var m *capture.Manifest
	for i := 0; i < 50; i++ { // until the server listens
		target := &capture.HTTPTarget{Label: "http", URL: "http://" + testToken + "@" + addr + "/"}
		if m, err = capture.Save(context.Background(), capture.Source{Vmcore: bytes.NewReader(vmcore), VmcoreSize: int64(len(vmcore))}, []capture.Target{target}, io.Discard); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		select {
		case rerr := <-done:
			t.Fatalf("%v; receive returned %v: %s", err, rerr, out.String())
		default:
			t.Fatalf("%v; receive output: %s", err, out.String())
		}
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("receive -once did not exit after a dump")
	}
	got, _ := filepath.Glob(filepath.Join(dir, "*", capture.VmcoreName))
	if len(got) != 1 || !strings.Contains(out.String(), "dump saved in") || m.Target != "http" {
		t.Fatalf("dumps %v, output:\n%s", got, out.String())
	}
	if b, _ := os.ReadFile(got[0]); !bytes.Equal(b, vmcore) {
		t.Error("received vmcore differs")
	}
}

func TestReceiveRefusesBadToken(t *testing.T) {
	for _, tok := range []string{"short", "has,comma-0123456789", "has space 0123456789"} {
		err := runReceive([]string{"-token", tok, "-dir", t.TempDir()}, nil, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "-token") {
			t.Errorf("-token %q: %v", tok, err)
		}
	}
}

// buildKdumpkit builds the real command, as a user runs it.
func buildKdumpkit(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "kdumpkit")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// receiveProc is a running `kdumpkit receive` and what it printed.
type receiveProc struct {
	addr, token string
	out         *syncbuf.Buffer
}

// startReceive runs bin receive ARGS in cwd and waits for its address
// and token lines; it fails (or returns nil when the address is taken
// and skipBusy) if they do not come.
func startReceive(t *testing.T, bin, cwd string, env []string, args ...string) *receiveProc {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"receive"}, args...)...)
	cmd.Dir = cwd
	cmd.Env = append(os.Environ(), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &receiveProc{out: &syncbuf.Buffer{}}
	cmd.Stderr = p.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			p.out.Write([]byte(line + "\n"))
			if a, ok := strings.CutPrefix(line, "receive: listening on "); ok {
				p.addr, _, _ = strings.Cut(a, ",")
			}
			if tok, ok := strings.CutPrefix(line, "receive: token "); ok {
				p.token, _, _ = strings.Cut(tok, " ")
				close(ready)
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(20 * time.Second):
		t.Fatalf("receive printed no address and token:\n%s", p.out.String())
	}
	return p
}

func shaHex(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// TestReceiveProcessListensOnLoopback: with no flags at all the receiver
// listens on 127.0.0.1 only; asking for every interface prints a warning.
func TestReceiveProcessListensOnLoopback(t *testing.T) {
	bin := buildKdumpkit(t)
	if ln, err := net.Listen("tcp", "127.0.0.1:8123"); err != nil {
		t.Skipf("the default port is taken here: %v", err)
	} else {
		ln.Close()
	}
	p := startReceive(t, bin, t.TempDir(), nil)
	if p.addr != "127.0.0.1:8123" || strings.Contains(p.out.String(), "WARNING") {
		t.Errorf("no flags: listening on %q:\n%s", p.addr, p.out.String())
	}
	if ip := nonLoopbackIP(); ip != "" {
		if c, err := net.DialTimeout("tcp", net.JoinHostPort(ip, "8123"), time.Second); err == nil {
			c.Close()
			t.Errorf("reachable on %s", ip)
		}
	}
	wide := startReceive(t, bin, t.TempDir(), nil, "-listen", "0.0.0.0:0")
	if !strings.Contains(wide.out.String(), "receive: WARNING: ") {
		t.Errorf("-listen 0.0.0.0: no warning:\n%s", wide.out.String())
	}
}

func nonLoopbackIP() string {
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP.String()
		}
	}
	return ""
}

// board is one simulated board's dump, distinct from every other's.
type board struct {
	vmcore, dmesg []byte
	filed         string
	err           error
}

// TestReceiveProcess16Boards: 16 boards upload at once to a real
// `kdumpkit receive` while another client sits stalled in the middle of
// a PUT. Every board's dump must be filed under the name the receiver
// told that board, with that board's bytes; a board that is refused must
// have been told so. Before, 68 of 72 dumps were lost this way and the
// "saved" boards had another board's dump under their name.
func TestReceiveProcess16Boards(t *testing.T) {
	bin := buildKdumpkit(t)
	dir := t.TempDir()
	p := startReceive(t, bin, t.TempDir(), []string{tokenEnv + "=" + testToken}, "-listen", "127.0.0.1:0", "-dir", dir)
	if p.token != testToken {
		t.Fatalf("token %q, want the one from $%s", p.token, tokenEnv)
	}
	stalled := stallUpload(t, p.addr)
	defer stalled.Close()
	boards := make([]board, 16)
	var wg sync.WaitGroup
	for i := range boards {
		b := &boards[i]
		b.vmcore = bytes.Repeat([]byte(fmt.Sprintf("board %02d memory ", i)), 65536+i*1000)
		b.dmesg = []byte(fmt.Sprintf("[    0.000000] board %02d log\n", i))
		wg.Add(1)
		go func() {
			defer wg.Done()
			target := &capture.HTTPTarget{Label: "http", URL: "http://" + testToken + "@" + p.addr + "/"}
			src := capture.Source{Vmcore: bytes.NewReader(b.vmcore), VmcoreSize: int64(len(b.vmcore)), Dmesg: b.dmesg}
			_, b.err = capture.Save(context.Background(), src, []capture.Target{target}, io.Discard)
			b.filed = target.Filed
		}()
	}
	wg.Wait()
	var filed, refused, mixed int
	names := map[string]int{}
	for i, b := range boards {
		if b.err != nil {
			refused++
			t.Logf("board %d refused: %v", i, b.err)
			continue
		}
		names[b.filed]++
		core, _ := os.ReadFile(filepath.Join(dir, b.filed, capture.VmcoreName))
		log, _ := os.ReadFile(filepath.Join(dir, b.filed, capture.DmesgName))
		_, merr := capture.ReadManifest(filepath.Join(dir, b.filed))
		if shaHex(core) != shaHex(b.vmcore) || !bytes.Equal(log, b.dmesg) || merr != nil {
			mixed++
			t.Errorf("board %d: %s holds another dump (%v)", i, b.filed, merr)
			continue
		}
		filed++
	}
	ents, _ := os.ReadDir(dir)
	var dumps int
	for _, e := range ents {
		if e.Name() != ".incoming" {
			dumps++
			if names[e.Name()] != 1 {
				t.Errorf("dump %s was told to %d boards", e.Name(), names[e.Name()])
			}
		}
	}
	t.Logf("16 uploads: %d filed under the right board, %d refused with an error, %d mixed, %d dumps on disk", filed, refused, mixed, dumps)
	if filed != 16 || dumps != filed {
		t.Errorf("want all 16 filed, each once:\n%s", p.out.String())
	}
}

// stallUpload opens an upload and starts a PUT that sends 1 KiB of a
// megabyte, then nothing.
func stallUpload(t *testing.T, addr string) net.Conn {
	t.Helper()
	status, id := rawRequest(t, addr, postText("/uploads", testToken))
	if status != http.StatusCreated {
		t.Fatalf("open: %d %s", status, id)
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(c, "PUT /uploads/%s/vmcore HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nX-Kdumpkit-Size: 1048576\r\nTrailer: X-Kdumpkit-Sha256\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n%s\r\n",
		strings.TrimSpace(id), testToken, strings.Repeat("s", 1024))
	return c
}

func rawRequest(t *testing.T, addr, text string) (int, string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, text)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("%q: %v", text, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

func postText(path, token string) string {
	return fmt.Sprintf("POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", path, token)
}

func putText(path, token, size string, body []byte, sha string) string {
	return fmt.Sprintf("PUT %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nX-Kdumpkit-Size: %s\r\nTrailer: X-Kdumpkit-Sha256\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n%x\r\n%s\r\n0\r\nX-Kdumpkit-Sha256: %s\r\n\r\n",
		path, token, size, len(body), body, sha)
}

// TestReceiveProcessRefusesHostile: against the real command, a request
// without the token is 401, every path trick, foreign name, oversized
// declaration and forged manifest is a 4xx, nothing appears outside DIR,
// nothing is filed, and no answer shows a host path or a host file.
func TestReceiveProcessRefusesHostile(t *testing.T) {
	bin := buildKdumpkit(t)
	root := t.TempDir()
	secret := []byte("root:$6$hostsecret:19000:0:99999:7:::\n")
	os.WriteFile(filepath.Join(root, "shadow"), secret, 0o600)
	dir := filepath.Join(root, "dumps")
	p := startReceive(t, bin, t.TempDir(), nil, "-listen", "127.0.0.1:0", "-dir", dir, "-token", testToken, "-max-file", "1M")
	before := treeOf(root)
	if status, _ := rawRequest(t, p.addr, postText("/uploads", "")); status != http.StatusUnauthorized {
		t.Errorf("no token: %d", status)
	}
	_, id := rawRequest(t, p.addr, postText("/uploads", testToken))
	up := "/uploads/" + id + "/"
	core := []byte("core")
	for _, h := range []struct{ what, req string }{
		{"PUT without token", putText(up+"vmcore", "", "4", core, shaHex(core))},
		{"PUT /x/..", putText("/x/..", testToken, "4", core, shaHex(core))},
		{"PUT ../../shadow", putText(up+"../../shadow", testToken, "4", core, shaHex(core))},
		{"PUT escaped ..", putText(up+"%2e%2e%2f%2e%2e%2fshadow", testToken, "4", core, shaHex(core))},
		{"PUT foreign name", putText(up+"authorized_keys", testToken, "4", core, shaHex(core))},
		{"PUT over -max-file", putText(up+"vmcore", testToken, "1048577", core, shaHex(core))},
		{"PUT bad hash", putText(up+"vmcore", testToken, "4", core, strings.Repeat("0", 64))},
	} {
		status, body := rawRequest(t, p.addr, h.req)
		if status < 400 || status > 499 {
			t.Errorf("%s: %d %s", h.what, status, body)
		}
		noLeak(t, h.what, body, root, secret)
	}
	rawRequest(t, p.addr, putText(up+"vmcore", testToken, "4", core, shaHex(core)))
	js, _ := json.Marshal(capture.Manifest{Files: []capture.FileInfo{
		{Name: "vmcore", Size: 4, SHA256: shaHex(core)},
		{Name: "../../shadow", Size: int64(len(secret)), SHA256: shaHex(secret)}}})
	rawRequest(t, p.addr, putText(up+"manifest.json", testToken, strconv.Itoa(len(js)), js, shaHex(js)))
	status, body := rawRequest(t, p.addr, postText(up+"commit", testToken))
	if status != http.StatusBadRequest {
		t.Errorf("forged manifest: %d %s", status, body)
	}
	noLeak(t, "forged manifest", body, root, secret)
	for path := range treeOf(root) {
		if !before[path] && !strings.HasPrefix(path, filepath.Join("dumps", ".incoming")) {
			t.Errorf("new path %s", path)
		}
	}
}

func noLeak(t *testing.T, what, body, root string, secret []byte) {
	t.Helper()
	for _, leak := range []string{root, shaHex(secret), "hostsecret"} {
		if strings.Contains(body, leak) {
			t.Errorf("%s: the answer %q leaks %q", what, body, leak)
		}
	}
}

func treeOf(root string) map[string]bool {
	out := map[string]bool{}
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		rel, _ := filepath.Rel(root, p)
		out[rel] = true
		return nil
	})
	return out
}

// TestReceiveProcessDropsAbandoned: an upload a board never commits is
// removed after -abandon even if no other request ever comes.
func TestReceiveProcessDropsAbandoned(t *testing.T) {
	bin := buildKdumpkit(t)
	dir := t.TempDir()
	p := startReceive(t, bin, t.TempDir(), nil, "-listen", "127.0.0.1:0", "-dir", dir, "-token", testToken, "-abandon", "1s")
	_, id := rawRequest(t, p.addr, postText("/uploads", testToken))
	log := []byte("log of a board that died\n")
	if status, body := rawRequest(t, p.addr, putText("/uploads/"+id+"/dmesg.txt", testToken, strconv.Itoa(len(log)), log, shaHex(log))); status != http.StatusCreated {
		t.Fatalf("%d %s", status, body)
	}
	incoming := filepath.Join(dir, ".incoming", id)
	if _, err := os.Stat(incoming); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if _, err := os.Stat(incoming); os.IsNotExist(err) {
			return
		}
	}
	t.Errorf("%s still there 10 s after a 1 s -abandon:\n%s", incoming, p.out.String())
}
