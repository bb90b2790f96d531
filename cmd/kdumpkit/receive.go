package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"

	"github.com/kdumpkit/kdumpkit/capture"
)

// runReceive serves the capture tool's HTTP upload: a board on Ethernet
// with kdumpkit.targets=http://HOST:PORT/ sends its dump here.
func runReceive(args []string, _ io.ReadCloser, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("receive", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", ":8123", "address to listen on")
	dir := fs.String("dir", "dumps", "directory for received dumps (one subdirectory each)")
	once := fs.Bool("once", false, "exit after the first dump")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kdumpkit receive [-listen :8123] [-dir DIR] [-once]\n\nReceives dumps uploaded by the capture tool (target http://HOST:PORT/);\neach is kept only when its size and sha256 match what the board sent.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rc := &capture.Receiver{Dir: *dir, Log: stdout}
	if *once {
		rc.Received = func(string) { stop() }
	}
	srv := &http.Server{Handler: rc}
	go func() {
		<-ctx.Done()
		// Shutdown, not Close: the commit that triggered -once still
		// has its answer to send.
		srv.Shutdown(context.Background())
	}()
	fmt.Fprintf(stdout, "receive: listening on %s, dumps go to %s\n", ln.Addr(), *dir)
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	return nil
}
