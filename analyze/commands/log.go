package commands

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/kdumpkit/kdumpkit/analyze/escape"
)

func (s *Session) log(w io.Writer, args []string) error {
	levels, human, none := false, false, false
	for _, a := range args[1:] {
		switch a {
		case "-m":
			levels = true
		case "-T":
			human = true
		case "-t":
			none = true
		default:
			return fmt.Errorf("log [-m] [-T | -t]: option %s not supported: %w", a, ErrUsage)
		}
	}
	if s.Printk == nil {
		return fmt.Errorf("log: no printk reader for this dump")
	}
	recs, err := s.Printk()
	if err != nil && len(recs) == 0 {
		return fmt.Errorf("log: %w", err)
	}
	stamp := func(r LogRecord) string { return fmt.Sprintf("[%5d.%06d] ", r.TimeNS/1e9, r.TimeNS%1e9/1e3) }
	switch {
	case none:
		stamp = func(LogRecord) string { return "" }
	case human:
		boot, berr := s.bootWallClock()
		if berr != nil {
			return fmt.Errorf("log -T: %w", berr)
		}
		stamp = func(r LogRecord) string {
			return "[" + boot.Add(time.Duration(r.TimeNS/1e9)*time.Second).Format("Mon Jan _2 15:04:05 MST 2006") + "] "
		}
	}
	if s.JSON {
		if jerr := writeJSON(w, recs); jerr != nil {
			return jerr
		}
	} else {
		for _, r := range recs {
			writeRecord(w, r, stamp(r), levels)
		}
	}
	if err != nil {
		s.warn(w, fmt.Errorf("log: partial: %w", err))
	}
	return nil
}

// bootWallClock is when the kernel booted, as crash's log -T reckons
// it: the crash's wall-clock second (VMCOREINFO's CRASHTIME) less the
// whole seconds of its uptime.
func (s *Session) bootWallClock() (time.Time, error) {
	crashed, ok := s.Kernel.CrashTime()
	if !ok {
		return time.Time{}, fmt.Errorf("VMCOREINFO has no CRASHTIME")
	}
	return crashed.Add(-time.Duration(int64(s.uptime())) * time.Second), nil
}

// writeRecord prints one record as dmesg and crash do; each line of a
// multi-line record gets the record's prefix.
func writeRecord(w io.Writer, r LogRecord, prefix string, levels bool) {
	if levels {
		prefix += fmt.Sprintf("<%d>", r.Level)
	}
	for _, line := range strings.Split(strings.TrimRight(r.Text, "\n"), "\n") {
		fmt.Fprintf(w, "%s%s\n", prefix, escape.Text(line))
	}
}
