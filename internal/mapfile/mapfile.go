//go:build unix

// Package mapfile maps a file read-only into memory (mmap(2) with
// PROT_READ and MAP_PRIVATE). Reading a large file through a mapping
// costs a page fault per 16 pages the kernel maps around each touch,
// where reading it into the heap costs one per page of the copy and the
// copy itself: for the analyzer's multi-megabyte tables most of a run's
// system time.
package mapfile

import (
	"os"
	"syscall"
)

// Map maps the first size bytes of f. The bytes are valid until unmap is
// called; nothing made from them may be used after that.
func Map(f *os.File, size int64) (data []byte, unmap func() error, err error) {
	if size <= 0 || int64(int(size)) != size {
		return nil, nil, syscall.EINVAL
	}
	b, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_PRIVATE)
	if err != nil {
		return nil, nil, err
	}
	return b, func() error { return syscall.Munmap(b) }, nil
}
