// Package netboot serves a board's boot files over TFTP, as U-Boot's
// tftpboot fetches them: kernel image, device tree and initramfs, each
// under a fixed name, read-only, and nothing else. It logs every transfer
// with its size and time, and reports a request for a file it does not
// serve at once, so a misspelt name in a boot script stops the run with
// that name instead of a U-Boot retry loop and a stage timeout.
package netboot

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pin/tftp/v3"

	"github.com/kdumpkit/kdumpkit/internal/filelock"
)

// ErrNotServed means a board asked for a file the server does not have.
var ErrNotServed = errors.New("file not served")

// Server is a read-only TFTP server for a fixed set of files.
type Server struct {
	// Files maps the name a board asks for to the host file served.
	Files map[string]string
	// Log gets one line per transfer.
	Log io.Writer
	// Timeout is how long a transfer waits for the board's ack before
	// resending (5s when zero, U-Boot's own retransmit timeout).
	Timeout time.Duration

	srv    *tftp.Server
	conn   net.PacketConn
	done   chan error
	mu     sync.Mutex
	missed []string // names asked for and not served, in order
	sent   map[string]int64
	notify chan struct{}
}

// LockPort waits until no other kdumpkit process serves TFTP on addr and
// holds it for this one until unlock: U-Boot's fixed port 69 means two
// U-Boot boards (or two test packages) cannot netboot at once on one
// host, so the second waits rather than fails.
func LockPort(addr string, log io.Writer) (unlock func(), err error) {
	path := filepath.Join(os.TempDir(), "kdumpkit-tftp-"+strings.NewReplacer(":", "-", "/", "-").Replace(addr)+".lock")
	got := make(chan struct{})
	go func() {
		select {
		case <-got:
		case <-time.After(2 * time.Second):
			if log != nil {
				fmt.Fprintf(log, "tftp: another kdumpkit run serves TFTP on %s; waiting for it (%s)\n", addr, path)
			}
		}
	}()
	unlock, err = filelock.Lock(path)
	close(got)
	return unlock, err
}

// Listen starts serving on addr ("127.0.0.1:69"). Port 69 is privileged:
// U-Boot sends to it unless it was built with CONFIG_TFTP_PORT (then
// `tftpdstp` picks another), so the error says what to do when binding
// it is refused.
func (s *Server) Listen(addr string) error {
	conn, err := net.ListenPacket("udp4", addr)
	if err != nil {
		if errors.Is(err, os.ErrPermission) {
			return fmt.Errorf("TFTP server: listen on %s: %w (port 69 needs root, CAP_NET_BIND_SERVICE or `sysctl net.ipv4.ip_unprivileged_port_start=69`; a U-Boot built with CONFIG_TFTP_PORT can use another port: set the board's network.tftp_port)", addr, err)
		}
		return fmt.Errorf("TFTP server: listen on %s: %w", addr, err)
	}
	s.conn = conn
	s.sent = map[string]int64{}
	s.notify = make(chan struct{}, 1)
	s.srv = tftp.NewServer(s.read, nil)
	s.srv.SetTimeout(cmp.Or(s.Timeout, 5*time.Second))
	s.srv.SetHook(hook{s})
	s.done = make(chan error, 1)
	go func() { s.done <- s.srv.Serve(conn) }()
	return nil
}

// Addr is where the server listens.
func (s *Server) Addr() net.Addr { return s.conn.LocalAddr() }

// Close stops the server and waits for transfers under way to end.
func (s *Server) Close() error {
	if s.srv == nil {
		return nil
	}
	s.srv.Shutdown()
	return <-s.done
}

// Missed are the names asked for that are not served, in order.
func (s *Server) Missed() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.missed...)
}

// Sent is the size of each file sent whole at least once.
func (s *Server) Sent() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := make(map[string]int64, len(s.sent))
	for k, v := range s.sent {
		m[k] = v
	}
	return m
}

// Changed is signalled (without blocking) after each request, served or
// missed, so a watcher can check Missed without polling.
func (s *Server) Changed() <-chan struct{} { return s.notify }

func (s *Server) signal() {
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

// Names are the served names, sorted, for messages.
func (s *Server) Names() []string {
	var n []string
	for k := range s.Files {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

func (s *Server) read(name string, rf io.ReaderFrom) error {
	// U-Boot sends the name as typed; some clients prefix a slash.
	name = strings.TrimPrefix(name, "/")
	path, ok := s.Files[name]
	if !ok {
		s.mu.Lock()
		s.missed = append(s.missed, name)
		s.mu.Unlock()
		s.logf("tftp: %s asked for %q: not served (serving %s)", peer(rf), name, strings.Join(s.Names(), ", "))
		s.signal()
		return fmt.Errorf("%w: %s", ErrNotServed, name)
	}
	f, err := os.Open(path)
	if err != nil {
		s.logf("tftp: %q: %v", name, err)
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if ot, ok := rf.(tftp.OutgoingTransfer); ok {
		ot.SetSize(fi.Size())
	}
	start := time.Now()
	n, err := rf.ReadFrom(f)
	if err != nil {
		s.logf("tftp: %s %q: failed after %d of %d bytes: %v", peer(rf), name, n, fi.Size(), err)
		return err
	}
	d := time.Since(start)
	s.mu.Lock()
	s.sent[name] = n
	s.mu.Unlock()
	s.logf("tftp: sent %s (%d bytes, %s) to %s in %.1fs, %.1f MB/s", name, n, path, peer(rf), d.Seconds(), float64(n)/1e6/max(d.Seconds(), 1e-3))
	s.signal()
	return nil
}

func peer(rf io.ReaderFrom) string {
	if ot, ok := rf.(tftp.OutgoingTransfer); ok {
		a := ot.RemoteAddr()
		return a.String()
	}
	return "board"
}

func (s *Server) logf(format string, args ...any) {
	if s.Log != nil {
		fmt.Fprintf(s.Log, format+"\n", args...)
	}
}

// hook logs transfers the board gave up on (a U-Boot interrupted with
// Ctrl-C, a board reset mid-transfer).
type hook struct{ s *Server }

func (h hook) OnSuccess(tftp.TransferStats) {}
func (h hook) OnFailure(st tftp.TransferStats, err error) {
	if st.Filename != "" {
		h.s.logf("tftp: transfer of %q to %s failed: %v", st.Filename, st.RemoteAddr, err)
	}
}
