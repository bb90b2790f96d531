package capture

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/kdumpkit/kdumpkit/diskdump"
)

// Vmcore formats a manifest names.
const (
	FormatELF       = "elf"
	FormatKdump     = "kdump-compressed"
	FormatKdumpFlat = "kdump-compressed, flattened"
)

// AtTarget is a Target that holds a seekable file: a kdump-compressed
// vmcore is written in place there (its page descriptors come before the
// pages they describe), and as a flattened stream on every other target.
type AtTarget interface {
	Target
	// PutAt stores one file that write fills at offsets, whole or not at
	// all, and returns its SHA-256 and size.
	PutAt(ctx context.Context, name string, write func(io.WriterAt) error) (sha string, size int64, err error)
}

// AtFile is what PutAt writes through: a file.
type AtFile interface {
	io.WriterAt
	io.ReaderAt
	io.Closer
}

// saveCompressed stores src.Compressed's dump on t: in place on an
// AtTarget, else as a flattened stream whose size a first, discarded run
// measures (stream targets declare the size before the first byte: the
// receiver caps it, the raw disk records it); the dump is deterministic,
// so the second run's bytes are the first's, and copyHashed refuses any
// other count.
func saveCompressed(ctx context.Context, src Source, t Target, console io.Writer) (FileInfo, string, error) {
	if at, ok := t.(AtTarget); ok {
		sha, size, err := at.PutAt(ctx, VmcoreName, src.Compressed)
		return FileInfo{VmcoreName, size, sha}, FormatKdump, err
	}
	var n countWriter
	fw := diskdump.NewFlatWriter(&n)
	err := src.Compressed(fw)
	if err == nil {
		err = fw.Close()
	}
	if err != nil {
		return FileInfo{}, "", err
	}
	fmt.Fprintf(console, "capture: the flattened stream for %s is %d bytes; sending it\n", t.Name(), n.n)
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		fw := diskdump.NewFlatWriter(pw)
		err := src.Compressed(fw)
		if err == nil {
			err = fw.Close()
		}
		pw.CloseWithError(err)
		done <- err
	}()
	sha, err := t.Put(ctx, VmcoreName, pr, n.n)
	pr.CloseWithError(errors.New("the target stopped reading"))
	if werr := <-done; err == nil && werr != nil {
		err = werr
	}
	return FileInfo{VmcoreName, n.n, sha}, FormatKdumpFlat, err
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// extent records how far writes reached.
type extent struct {
	AtFile
	end int64
}

func (e *extent) WriteAt(p []byte, off int64) (int, error) {
	n, err := e.AtFile.WriteAt(p, off)
	e.end = max(e.end, off+int64(n))
	return n, err
}

// PutAt writes one file in place under a temporary name, syncs it, hashes
// it by reading it back (its bytes were not written in order) and renames
// it; on any error the part is removed.
func (d *DirTarget) PutAt(ctx context.Context, name string, write func(io.WriterAt) error) (string, int64, error) {
	final := filepath.Join(d.Dir, name)
	part := final + ".part"
	var f AtFile
	var err error
	if d.CreateAt != nil {
		f, err = d.CreateAt(part)
	} else {
		f, err = os.OpenFile(part, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	}
	if err != nil {
		return "", 0, err
	}
	e := &extent{AtFile: f}
	err = write(e)
	if err == nil {
		if s, ok := f.(interface{ Sync() error }); ok {
			err = s.Sync()
		}
	}
	var sha string
	if err == nil {
		sha, err = copyHashed(io.Discard, io.NewSectionReader(f, 0, e.end), e.end)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		os.Remove(part)
		return "", 0, err
	}
	if err := os.Rename(part, final); err != nil {
		os.Remove(part)
		return "", 0, err
	}
	d.done = append(d.done, final)
	return sha, e.end, nil
}
