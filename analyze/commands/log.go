package commands

import (
	"fmt"
	"io"
	"strings"

	"github.com/kdumpkit/kdumpkit/analyze/escape"
)

func (s *Session) log(w io.Writer, args []string) error {
	levels := false
	for _, a := range args[1:] {
		switch a {
		case "-m":
			levels = true
		default:
			return fmt.Errorf("log: option %s not supported: %w", a, ErrUsage)
		}
	}
	if s.Printk == nil {
		return fmt.Errorf("log: no printk reader for this dump")
	}
	recs, err := s.Printk()
	if err != nil && len(recs) == 0 {
		return fmt.Errorf("log: %w", err)
	}
	if s.JSON {
		if jerr := writeJSON(w, recs); jerr != nil {
			return jerr
		}
	} else {
		for _, r := range recs {
			writeRecord(w, r, levels)
		}
	}
	if err != nil {
		s.warn(w, fmt.Errorf("log: partial: %w", err))
	}
	return nil
}

// writeRecord prints one record as dmesg and crash do; each line of a
// multi-line record gets the record's prefix.
func writeRecord(w io.Writer, r LogRecord, levels bool) {
	prefix := fmt.Sprintf("[%5d.%06d] ", r.TimeNS/1e9, r.TimeNS%1e9/1e3)
	if levels {
		prefix += fmt.Sprintf("<%d>", r.Level)
	}
	for _, line := range strings.Split(strings.TrimRight(r.Text, "\n"), "\n") {
		fmt.Fprintf(w, "%s%s\n", prefix, escape.Text(line))
	}
}
