package rootfs

import (
	"fmt"
	"os"
	"syscall"
)

// lock takes an exclusive flock(2) on path+".lock" so two builds of the
// same image (a mage target and a test package in parallel) take turns.
func lock(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}
