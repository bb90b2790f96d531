package downloads

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/kdumpkit/kdumpkit/internal/regularfile"
)

// Errors about what a source gives.
var (
	// ErrNotRegular means a local source is a device, FIFO or directory:
	// /dev/zero would hash for ever, a FIFO would block.
	ErrNotRegular = regularfile.ErrNotRegular
	// ErrTooLarge means a checksum file is larger than MaxChecksumFile.
	ErrTooLarge = errors.New("file too large")
)

// MaxChecksumFile bounds a checksum file, local or downloaded: kernel.org's
// sha256sums.asc, the largest we read, is about 100 KiB.
const MaxChecksumFile = 4 << 20

// readLimited reads all of r, refusing more than max bytes rather than
// cutting them off: a checksum file cut short could lose the line we need
// and say so only as "no checksum".
func readLimited(r io.Reader, max int64, name string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s: %w: more than %d bytes", name, ErrTooLarge, max)
	}
	return data, nil
}

// readLocal reads a small local file by path, bounded like an HTTP body.
func readLocal(p string, max int64) ([]byte, error) {
	f, err := regularfile.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readLimited(f, max, p)
}

// hashFile hashes a regular file, checking ctx between chunks so a
// cancelled run stops within one chunk even on a multi-GiB file.
func hashFile(ctx context.Context, p string) (string, error) {
	f, err := regularfile.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	buf := make([]byte, 1<<20)
	for {
		if err := ctx.Err(); err != nil {
			return "", fmt.Errorf("hashing %s: %w", p, err)
		}
		n, err := f.Read(buf)
		h.Write(buf[:n])
		if errors.Is(err, io.EOF) {
			return hex.EncodeToString(h.Sum(nil)), nil
		}
		if err != nil {
			return "", fmt.Errorf("hashing %s: %w", p, err)
		}
	}
}
