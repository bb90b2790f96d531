package capture

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// DirTarget writes the dump into a directory: a 9p share of the host, a
// mounted disk, a path on the target's own storage. Each file is written
// as NAME.part, synced, and renamed; Commit syncs the directory.
type DirTarget struct {
	Label string // e.g. "9p:/dump"
	Dir   string
	// Create opens a file for writing; nil means os.Create. Tests inject
	// faults here.
	Create func(name string) (io.WriteCloser, error)
	// CreateAt opens a file for PutAt; nil means os.OpenFile. Tests
	// inject faults here.
	CreateAt func(name string) (AtFile, error)
	done     []string
}

// Name is the label shown in fallback lines.
func (d *DirTarget) Name() string { return d.Label }

func (d *DirTarget) create(p string) (io.WriteCloser, error) {
	if d.Create != nil {
		return d.Create(p)
	}
	return os.Create(p)
}

// Put writes one file under a temporary name and renames it.
func (d *DirTarget) Put(ctx context.Context, name string, r io.Reader, size int64) (string, error) {
	final := filepath.Join(d.Dir, name)
	part := final + ".part"
	w, err := d.create(part)
	if err != nil {
		return "", err
	}
	sha, err := copyHashed(w, r, size)
	if err == nil {
		if s, ok := w.(interface{ Sync() error }); ok {
			err = s.Sync()
		}
	}
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(part)
		return "", err
	}
	if err := os.Rename(part, final); err != nil {
		os.Remove(part)
		return "", err
	}
	d.done = append(d.done, final)
	return sha, nil
}

// Commit syncs the directory so the renames are durable.
func (d *DirTarget) Commit() error {
	f, err := os.Open(d.Dir)
	if err != nil {
		return err
	}
	defer f.Close()
	f.Sync() // 9p and some filesystems refuse fsync on directories; the renames stand
	return nil
}

// Abort removes the files this target completed, so a half-saved set
// (dmesg.txt without its vmcore) is not mistaken for a dump.
func (d *DirTarget) Abort() {
	for _, p := range d.done {
		os.Remove(p)
	}
	d.done = nil
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// ReadManifest reads and checks a dump directory: every file the manifest
// lists must exist with its size and SHA-256.
func ReadManifest(dir string) (*Manifest, error) {
	m, err := parseManifestFile(filepath.Join(dir, ManifestName))
	if err != nil {
		return nil, err
	}
	for _, f := range m.Files {
		if err := verifyFile(filepath.Join(dir, f.Name), f); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func verifyFile(p string, want FileInfo) error {
	fh, err := os.Open(p)
	if err != nil {
		return err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return err
	}
	if st.Size() != want.Size {
		return fmt.Errorf("%s: %d bytes, the manifest says %d", p, st.Size(), want.Size)
	}
	sha, err := copyHashed(io.Discard, fh, want.Size)
	if err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	if sha != want.SHA256 {
		return fmt.Errorf("%s: sha256 %s, the manifest says %s", p, sha, want.SHA256)
	}
	return nil
}
