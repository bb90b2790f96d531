package kbuild

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/kdumpkit/kdumpkit/internal/copyfile"
)

// collect places the artifacts in dir, hard-linked when the cache is on
// the same file system (a 170 MiB vmlinux costs nothing), else copied; a
// file already there with the same size and mtime is left alone.
func collect(a *Artifacts, dir string) (*Artifacts, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	out := *a
	for _, p := range out.files() {
		if *p == "" {
			continue
		}
		name := filepath.Base(*p)
		if name == ".config" {
			name = "config"
		}
		dst := filepath.Join(dir, name)
		if err := place(*p, dst); err != nil {
			return nil, fmt.Errorf("collecting %s: %w", *p, err)
		}
		*p = dst
	}
	return &out, nil
}

func place(src, dst string) error {
	si, err := os.Stat(src)
	if err != nil {
		return err
	}
	if di, err := os.Stat(dst); err == nil && (os.SameFile(si, di) || di.Size() == si.Size() && di.ModTime().Equal(si.ModTime())) {
		return nil
	}
	tmp := dst + ".tmp"
	os.Remove(tmp)
	if err := os.Link(src, tmp); err != nil {
		if err := copyfile.Copy(src, tmp); err != nil {
			os.Remove(tmp)
			return err
		}
		os.Chtimes(tmp, si.ModTime(), si.ModTime())
	}
	return os.Rename(tmp, dst)
}
