package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/kdumpkit/kdumpkit/boards"
	"github.com/kdumpkit/kdumpkit/capture"
	"github.com/kdumpkit/kdumpkit/protocol"
)

// tokenEnv lets scripts choose the upload token without putting it on a
// command line other users can read in ps.
const tokenEnv = "KDUMPKIT_RECEIVE_TOKEN"

// receiveFlags are `kdumpkit receive`'s settings.
type receiveFlags struct {
	listen, dir, token string
	once               bool
	maxFile, maxUpload sizeFlag
	abandon            time.Duration
}

// sizeFlag is a byte count written like a board's memory size: 32G.
type sizeFlag struct{ n int64 }

func (s *sizeFlag) String() string { return boards.Size(s.n).String() }
func (s *sizeFlag) Set(v string) error {
	n, err := boards.ParseSize(v)
	if err != nil || n > 1<<62 {
		return fmt.Errorf("want a size like 32G")
	}
	s.n = int64(n)
	return nil
}

func parseReceiveFlags(args []string, stderr io.Writer) (*receiveFlags, error) {
	f := &receiveFlags{maxFile: sizeFlag{capture.DefaultMaxFile}, maxUpload: sizeFlag{capture.DefaultMaxUpload}}
	fs := flag.NewFlagSet("receive", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.listen, "listen", "127.0.0.1:8123", "address to listen on; another host's board needs e.g. 0.0.0.0:8123")
	fs.StringVar(&f.dir, "dir", "dumps", "directory for received dumps (one subdirectory each)")
	fs.StringVar(&f.token, "token", "", "upload token the board must send (default $"+tokenEnv+", else a random one)")
	fs.BoolVar(&f.once, "once", false, "exit after the first dump")
	fs.Var(&f.maxFile, "max-file", "largest file of an upload (the vmcore is about the board's RAM)")
	fs.Var(&f.maxUpload, "max-upload", "largest upload, all its files together")
	fs.DurationVar(&f.abandon, "abandon", capture.DefaultAbandon, "drop an upload left uncommitted and idle this long")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kdumpkit receive [-listen 127.0.0.1:8123] [-dir DIR] [-token T] [-once]\n       [-max-file 32G] [-max-upload 33G] [-abandon 10m]\n\nReceives dumps uploaded by the capture tool; prints the token boards must carry\n(kdumpkit.targets=http://TOKEN@HOST:PORT/). Each dump is kept only when its\nsize and sha256 match what the board sent.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if f.abandon <= 0 {
		return nil, errors.New("-abandon: want a positive duration like 10m")
	}
	if f.token == "" {
		f.token = os.Getenv(tokenEnv) // read here, so -h never prints it
	}
	if f.token == "" {
		f.token = randomToken()
	}
	if len(f.token) < 16 || !protocol.ValidToken(f.token) {
		return nil, errors.New("-token: want at least 16 letters, digits or . _ ~ - (it travels in a URL on the kernel command line)")
	}
	return f, nil
}

func randomToken() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// runReceive serves the capture tool's HTTP upload: a board with
// kdumpkit.targets=http://TOKEN@HOST:PORT/ sends its dump here.
func runReceive(args []string, _ io.ReadCloser, stdout, stderr io.Writer) error {
	f, err := parseReceiveFlags(args, stderr)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(f.dir, 0o755); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rc := &capture.Receiver{Dir: f.dir, Log: stdout, Token: f.token, MaxFile: f.maxFile.n, MaxUpload: f.maxUpload.n, Abandon: f.abandon}
	if f.once {
		rc.Received = func(string) { stop() }
	}
	srv := rc.Server()
	go reapEvery(ctx, rc, f.abandon)
	go func() {
		<-ctx.Done()
		// Shutdown, not Close: the commit that triggered -once still
		// has its answer to send.
		srv.Shutdown(context.Background())
	}()
	announce(stdout, ln.Addr(), f)
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	return nil
}

// reapEvery drops abandoned uploads even when no board calls.
func reapEvery(ctx context.Context, rc *capture.Receiver, abandon time.Duration) {
	tick := time.NewTicker(max(abandon/4, 100*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			rc.ReapIdle()
		}
	}
}

// announce prints where the receiver listens, the target a board must be
// given, and a warning when other hosts can reach it.
func announce(w io.Writer, addr net.Addr, f *receiveFlags) {
	fmt.Fprintf(w, "receive: listening on %s, dumps go to %s\n", addr, f.dir)
	if tcp, ok := addr.(*net.TCPAddr); ok && !tcp.IP.IsLoopback() {
		fmt.Fprintf(w, "receive: WARNING: %s is reachable from other hosts; anyone with the token can upload\n", addr)
	}
	fmt.Fprintf(w, "receive: token %s (board: kdumpkit.targets=http://%s@%s/)\n", f.token, f.token, addr)
}
