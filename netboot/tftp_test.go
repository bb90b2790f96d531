package netboot

import (
	"bytes"
	"crypto/rand"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pin/tftp/v3"

	"github.com/kdumpkit/kdumpkit/internal/syncbuf"
)

// start serves a 1 MiB random file as "kdumpkit/Image" on a free port (the
// protocol is the same on 69; only the port number needs privileges).
func start(t testing.TB) (*Server, []byte, *syncbuf.Buffer) {
	data := make([]byte, 1<<20+123)
	rand.Read(data)
	p := filepath.Join(t.TempDir(), "Image")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	log := &syncbuf.Buffer{}
	s := &Server{Files: map[string]string{"kdumpkit/Image": p}, Log: log, Timeout: 300 * time.Millisecond}
	if err := s.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, data, log
}

func fetch(t testing.TB, s *Server, name string, blksize int) ([]byte, error) {
	c, err := tftp.NewClient(s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.SetTimeout(2 * time.Second)
	c.SetRetries(2)
	if blksize > 0 {
		c.SetBlockSize(blksize)
	}
	wt, err := c.Receive(name, "octet")
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	_, err = wt.WriteTo(&b)
	return b.Bytes(), err
}

func TestServe(t *testing.T) {
	s, data, log := start(t)
	for _, blk := range []int{0, 1468} { // 512, and U-Boot's default option
		got, err := fetch(t, s, "kdumpkit/Image", blk)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("blksize %d: got %d bytes, %v; want the file's %d", blk, len(got), err, len(data))
		}
	}
	if sent := s.Sent()["kdumpkit/Image"]; sent != int64(len(data)) {
		t.Errorf("Sent = %d", sent)
	}
	if !log.WaitFor("sent kdumpkit/Image (1048699 bytes", 2*time.Second) {
		t.Errorf("log lacks the transfer with its size:\n%s", log)
	}
}

// TestNotServed: names outside the set, traversal included, get a TFTP
// error and are reported, and nothing of the host's is read.
func TestNotServed(t *testing.T) {
	s, _, log := start(t)
	for _, name := range []string{"kdumpkit/initramfs", "../../../etc/passwd", "/etc/passwd", "Image"} {
		if _, err := fetch(t, s, name, 0); err == nil {
			t.Errorf("%q was served", name)
		}
	}
	m := s.Missed()
	if len(m) != 4 || m[0] != "kdumpkit/initramfs" || m[2] != "etc/passwd" {
		t.Errorf("Missed = %q", m)
	}
	if !log.WaitFor(`"kdumpkit/initramfs": not served (serving kdumpkit/Image)`, 2*time.Second) {
		t.Errorf("log:\n%s", log)
	}
	select {
	case <-s.Changed():
	default:
		t.Error("no change signalled")
	}
}

func TestListenRefused(t *testing.T) {
	s := &Server{}
	if err := s.Listen("127.0.0.1:99999"); err == nil {
		t.Fatal("listened on port 99999")
	}
	busy, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	if err := (&Server{}).Listen(busy.LocalAddr().String()); err == nil || !strings.Contains(err.Error(), busy.LocalAddr().String()) {
		t.Errorf("Listen on a busy port = %v, want an error naming it", err)
	}
}

// FuzzServer sends arbitrary datagrams to a running server: whatever
// arrives, it never serves a file it was not given, never stops serving
// the one it was, and never panics.
func FuzzServer(f *testing.F) {
	f.Add([]byte("\x00\x01kdumpkit/Image\x00octet\x00"))
	f.Add([]byte("\x00\x01kdumpkit/Image\x00octet\x00blksize\x0065464\x00tsize\x000\x00"))
	f.Add([]byte("\x00\x01../x\x00netascii\x00"))
	f.Add([]byte("\x00\x02up\x00octet\x00"))
	f.Add([]byte("\x00\x05\x00\x01oops\x00"))
	f.Add([]byte("\x00\x01\x00\x00"))
	s, data, _ := start(f)
	conn, err := net.Dial("udp4", s.Addr().String())
	if err != nil {
		f.Fatal(err)
	}
	defer conn.Close()
	f.Fuzz(func(t *testing.T, pkt []byte) {
		conn.Write(pkt)
		// A read request may start a transfer to this socket; drain what
		// comes so the server's sender times out on its own.
		conn.SetReadDeadline(time.Now().Add(5 * time.Millisecond))
		buf := make([]byte, 70000)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				break
			}
			if n >= 4 && buf[1] == 3 && len(pkt) > 2 && !strings.HasPrefix(strings.TrimPrefix(string(pkt[2:]), "/"), "kdumpkit/Image\x00") {
				t.Fatalf("data sent for request %q", pkt)
			}
		}
		if errors.Is(err, net.ErrClosed) {
			t.Fatal(err)
		}
	})
	if got, err := fetch(f, s, "kdumpkit/Image", 0); err != nil || !bytes.Equal(got, data) {
		f.Errorf("after fuzzing: %d bytes, %v", len(got), err)
	}
}
