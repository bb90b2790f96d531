package dump

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
)

// UnverifiedName is the marker file the pipeline leaves in a dump
// directory when the dump reached the host but could not be verified; its
// lines are the reasons. pipeline.UnverifiedName defines it; the analyzer
// does not import the pipeline, so the name is repeated here.
const UnverifiedName = "UNVERIFIED"

// maxMarker bounds the marker read: reasons are a few lines.
const maxMarker = 64 << 10

// Unverified returns the reasons in the UNVERIFIED marker beside vmcore,
// nil when there is none. An empty marker still marks the dump.
func Unverified(vmcore string) ([]string, error) {
	p := filepath.Join(filepath.Dir(vmcore), UnverifiedName)
	f, err := OpenRegular(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return []string{fmt.Sprintf("(marker unreadable: %v)", err)}, nil
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxMarker))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	var reasons []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			reasons = append(reasons, l)
		}
	}
	if len(reasons) == 0 {
		reasons = []string{"(no reason given)"}
	}
	return reasons, nil
}

// unverifiedWarnings turns the marker's reasons into one warning each:
// "DIR is unverified: REASON".
func unverifiedWarnings(vmcore string, reasons []string) []error {
	var out []error
	for _, r := range reasons {
		out = append(out, fmt.Errorf("%s is unverified: %s", filepath.Dir(vmcore), r))
	}
	return out
}
