// Package atomicfile replaces a file whole or not at all: caches that
// another process may read while this one writes them (the analyzer's
// symbol and DWARF index caches) are written to a temporary file beside
// the target and renamed over it.
package atomicfile

import (
	"os"
	"path/filepath"
)

// Write replaces path with what write writes, never leaving a
// half-written file under path; the directory is made if missing.
func Write(path string, write func(*os.File) error) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	err = write(tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}
