package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"

	"github.com/kdumpkit/kdumpkit/capture"
	"github.com/kdumpkit/kdumpkit/protocol"
)

// target turns a spec into a Target; a 9p share is mounted on first use.
func target(s protocol.Spec, console io.Writer) capture.Target {
	switch s.Kind {
	case "9p":
		return &mounted9p{DirTarget: capture.DirTarget{Label: s.String(), Dir: "/mnt/" + s.Arg}, tag: s.Arg}
	case "disk":
		return &capture.DiskTarget{Label: s.String(), Path: s.Arg}
	case "http":
		return &capture.HTTPTarget{Label: s.Label(), URL: s.Arg}
	}
	return &capture.DirTarget{Label: s.String(), Dir: s.Arg}
}

// mounted9p mounts the QEMU share (virtio-9p over virtio-mmio on ARM
// boards) before the first file; msize 256 KiB roughly doubles the
// throughput of the 8 KiB default under TCG.
type mounted9p struct {
	capture.DirTarget
	tag     string
	mounted bool
}

func (m *mounted9p) mount() error {
	if m.mounted {
		return nil
	}
	if err := os.MkdirAll(m.Dir, 0o755); err != nil {
		return err
	}
	if err := unix.Mount(m.tag, m.Dir, "9p", 0, "trans=virtio,version=9p2000.L,msize=262144"); err != nil {
		return fmt.Errorf("mount -t 9p %s %s: %w (QEMU needs -device virtio-9p-device,mount_tag=%s; the kernel NET_9P_VIRTIO, 9P_FS)", m.tag, m.Dir, err, m.tag)
	}
	m.mounted = true
	return nil
}

func (m *mounted9p) Put(ctx context.Context, name string, r io.Reader, size int64) (string, error) {
	if err := m.mount(); err != nil {
		return "", err
	}
	return m.DirTarget.Put(ctx, name, r, size)
}

// PutAt mounts first too: the embedded DirTarget's would write into the
// capture kernel's own RAM under the unmounted directory.
func (m *mounted9p) PutAt(ctx context.Context, name string, write func(io.WriterAt) error) (string, int64, error) {
	if err := m.mount(); err != nil {
		return "", 0, err
	}
	return m.DirTarget.PutAt(ctx, name, write)
}

func (m *mounted9p) Commit() error {
	err := m.DirTarget.Commit()
	unix.Sync()
	return err
}
