package kbuild

import (
	"github.com/kdumpkit/kdumpkit/internal/filelock"
)

// lockDir takes an exclusive lock on dir.lock, beside dir, waiting for
// another kdumpkit (a second terminal, a parallel test package) building
// the same tree: two makes in one object tree corrupt it. The lock lives
// beside the tree so that a build refused before make (a bad fragment)
// leaves no empty object tree behind.
func lockDir(dir string) (unlock func(), err error) { return filelock.Lock(dir + ".lock") }
