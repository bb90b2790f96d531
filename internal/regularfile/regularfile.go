// Package regularfile opens the files kdumpkit reads from paths a user or
// a board file gives it — vmcores, vmlinuxes, fragments, local download
// sources — and refuses FIFOs, devices, sockets and directories: reading
// one can block for ever (a FIFO with no writer) or never end (/dev/zero).
package regularfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// ErrNotRegular means a path names something other than a regular file.
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge means a file is larger than its reader allows.
var ErrTooLarge = errors.New("file too large")

// Open opens path for reading if it is a regular file (symbolic links
// followed). O_NONBLOCK keeps the open of a FIFO from waiting for a writer
// before the check on the open file can refuse it; on a regular file it
// changes nothing. Checking the open file, not the path, leaves no window
// for the path to be swapped.
func Open(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s: %w (it is a %s)", path, ErrNotRegular, kind(st.Mode()))
	}
	return f, nil
}

// Read reads a regular file of at most max bytes.
func Read(path string, max int64) ([]byte, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s: %w: more than %d bytes", path, ErrTooLarge, max)
	}
	return data, nil
}

func kind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "directory"
	case m&os.ModeNamedPipe != 0:
		return "FIFO"
	case m&os.ModeSocket != 0:
		return "socket"
	case m&os.ModeCharDevice != 0:
		return "character device"
	case m&os.ModeDevice != 0:
		return "block device"
	}
	return m.Type().String()
}
