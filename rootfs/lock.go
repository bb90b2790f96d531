package rootfs

import "github.com/kdumpkit/kdumpkit/internal/filelock"

// lock takes an exclusive lock on path+".lock" so two builds of the
// same image (a mage target and a test package in parallel) take turns.
func lock(path string) (unlock func(), err error) { return filelock.Lock(path + ".lock") }
