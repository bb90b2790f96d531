//go:build !unix

package mapfile

import (
	"errors"
	"os"
)

// Map is not available here: callers read the file instead.
func Map(*os.File, int64) ([]byte, func() error, error) {
	return nil, nil, errors.New("no mmap on this platform")
}
