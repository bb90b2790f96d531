// Package copyfile copies one regular file's bytes to a new file: what
// the kernel build, the test-dump maker and the crash oracle each need
// when a hard link is not possible (another file system) or not wanted
// (the copy is edited).
package copyfile

import (
	"io"
	"os"
)

// Copy writes src's bytes to dst, creating or truncating it; a failed
// write or close is an error, so a short copy is never taken for a whole
// one.
func Copy(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
