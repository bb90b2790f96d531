package pipeline

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// coldPath is where the wall time of the last cold kdump:test is kept,
// for the bench target to print beside the warm one.
func coldPath(cacheDir, board string) string {
	return filepath.Join(cacheDir, "bench", board+"-kdump-cold.txt")
}

// RecordCold keeps the wall time of a kdump:test that built the kernel.
func RecordCold(cacheDir, board string, d time.Duration) error {
	p := coldPath(cacheDir, board)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, fmt.Appendf(nil, "%s %s\n", d, time.Now().UTC().Format(time.RFC3339)), 0o644)
}

// ReadCold returns the recorded cold run and when it was made.
func ReadCold(cacheDir, board string) (time.Duration, time.Time, error) {
	b, err := os.ReadFile(coldPath(cacheDir, board))
	if err != nil {
		return 0, time.Time{}, err
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 0, time.Time{}, fmt.Errorf("%s: want DURATION TIME", coldPath(cacheDir, board))
	}
	d, err := time.ParseDuration(f[0])
	if err != nil {
		return 0, time.Time{}, err
	}
	when, err := time.Parse(time.RFC3339, f[1])
	return d, when, err
}
