//go:build !unix

package types

import (
	"errors"
	"os"
)

func mapFile(*os.File, int64) ([]byte, func() error, error) {
	return nil, nil, errors.New("no mmap on this platform")
}
