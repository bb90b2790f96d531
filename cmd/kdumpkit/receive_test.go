package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kdumpkit/kdumpkit/capture"
)

func TestReceiveOnce(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	var out bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- runReceive([]string{"-listen", addr, "-dir", dir, "-once"}, nil, &out, &out) }()
	vmcore := bytes.Repeat([]byte("core"), 1<<18)
	target := &capture.HTTPTarget{Label: "http", URL: "http://" + addr + "/"}
	var m *capture.Manifest
	for i := 0; i < 50; i++ { // until the server listens
		if m, err = capture.Save(context.Background(), capture.Source{Vmcore: bytes.NewReader(vmcore), VmcoreSize: int64(len(vmcore))}, []capture.Target{target}, &bytes.Buffer{}); err == nil {
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
