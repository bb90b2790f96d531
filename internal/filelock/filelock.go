// Package filelock serializes kdumpkit processes that build or fill the
// same cache entry: a mage target in one terminal and a test package in
// another, or two test packages that go test runs in parallel.
package filelock

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// Lock takes an exclusive flock(2) on path (created, with its directory,
// if missing), waiting for whoever holds it. The lock goes with the
// process, so a killed build never leaves a stale one.
func Lock(path string) (unlock func(), err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}
