package printk

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/kdumpkit/kdumpkit/analyze/escape"
	"github.com/kdumpkit/kdumpkit/analyze/vmcoreinfo"
)

// ErrNoLog means VMCOREINFO describes neither printk ring nor log_buf.
var ErrNoLog = errors.New("no printk buffer described in VMCOREINFO")

// Memory reads kernel virtual memory.
type Memory interface {
	ReadVirt(addr uint64, buf []byte) error
}

// Record flags (kernel/printk/printk_ringbuffer.h, enum printk_info_flags).
const (
	FlagNewline = 2 // text ended with a newline
	FlagCont    = 8 // a continuation fragment
)

// Record is one log record.
type Record struct {
	Seq       uint64 `json:"seq"`
	TimeNS    uint64 `json:"ts_nsec"`
	Level     int    `json:"level"`
	Facility  int    `json:"facility"`
	Flags     int    `json:"flags"`
	CallerID  uint32 `json:"caller_id"`
	Text      string `json:"text"`
	Subsystem string `json:"subsystem,omitempty"`
	Device    string `json:"device,omitempty"`
}

// Log is the records read and any that could not be.
type Log struct {
	Records []Record
	// Warnings name records skipped as unreadable or inconsistent (a
	// record being written when the kernel crashed, say), then each Gap.
	Warnings []string
	// Gaps are the runs of sequence numbers missing between records read:
	// the true count of records lost, whatever the reason (a descriptor
	// too damaged to name its record gives no warning of its own).
	Gaps []Gap
}

// Gap is a run of missing sequence numbers: After and Before are the
// records read on either side.
type Gap struct {
	After, Before uint64
}

// Missing is the number of records in the gap.
func (g Gap) Missing() uint64 { return g.Before - g.After - 1 }

func (g Gap) String() string {
	return fmt.Sprintf("%d records missing between seq %d and %d", g.Missing(), g.After, g.Before)
}

// Missing is the number of records lost inside the log read.
func (l *Log) Missing() uint64 {
	var n uint64
	for _, g := range l.Gaps {
		n += g.Missing()
	}
	return n
}

// Summary is one line for the records the log lacks, "" when it lacks
// none: the records missing, by gap, then the unreadable ones.
func (l *Log) Summary() string {
	var parts []string
	if n := l.Missing(); n > 0 {
		var gs []string
		for i, g := range l.Gaps {
			if i == 5 {
				gs = append(gs, fmt.Sprintf("and %d more gaps", len(l.Gaps)-i))
				break
			}
			gs = append(gs, fmt.Sprintf("%d between seq %d and %d", g.Missing(), g.After, g.Before))
		}
		parts = append(parts, fmt.Sprintf("%d records missing (%s)", n, strings.Join(gs, ", ")))
	}
	if n := len(l.Warnings) - len(l.Gaps); n > 0 {
		parts = append(parts, fmt.Sprintf("%d record problem(s), first: %s", n, l.Warnings[0]))
	}
	return strings.Join(parts, "; ")
}

// findGaps adds a Gap and its warning for each jump in the sequence
// numbers of the records, which must be sorted by Seq.
func (l *Log) findGaps() {
	for i := 1; i < len(l.Records); i++ {
		prev, cur := l.Records[i-1].Seq, l.Records[i].Seq
		if cur > prev+1 {
			g := Gap{After: prev, Before: cur}
			l.Gaps = append(l.Gaps, g)
			l.Warnings = append(l.Warnings, g.String())
		}
	}
}

// Read reads the kernel log: the lockless ring when VMCOREINFO has
// SYMBOL(prb), else the legacy log_buf.
func Read(m Memory, bo binary.ByteOrder, ptrSize int, info *vmcoreinfo.Info) (*Log, error) {
	r := &reader{m: m, bo: bo, ptr: ptrSize, info: info}
	if _, err := info.Symbol("prb"); err == nil {
		log, err := r.ring()
		if err == nil {
			log.findGaps()
		}
		return log, err
	}
	if _, err := info.Symbol("log_buf"); err == nil {
		return r.legacy()
	}
	return nil, ErrNoLog
}

type reader struct {
	m    Memory
	bo   binary.ByteOrder
	ptr  int
	info *vmcoreinfo.Info
	err  error // first error of a sequence of lookups
}

// off, size, sym and word collect the first error so a run of lookups
// reads straight and fails once, naming the key.
func (r *reader) off(typ, member string) uint64 {
	v, err := r.info.Offset(typ, member)
	r.keep(err)
	return v
}

func (r *reader) size(typ string) uint64 {
	v, err := r.info.Size(typ)
	r.keep(err)
	return v
}

func (r *reader) sym(name string) uint64 {
	v, err := r.info.Symbol(name)
	r.keep(err)
	return v
}

func (r *reader) keep(err error) {
	if r.err == nil && err != nil {
		r.err = err
	}
}

// word reads an unsigned long (or pointer) at addr.
func (r *reader) word(addr uint64) uint64 {
	if r.err != nil {
		return 0
	}
	b := make([]byte, r.ptr)
	if err := r.m.ReadVirt(addr, b); err != nil {
		r.keep(err)
		return 0
	}
	return r.uword(b)
}

func (r *reader) u32(addr uint64) uint32 {
	if r.err != nil {
		return 0
	}
	var b [4]byte
	r.keep(r.m.ReadVirt(addr, b[:]))
	return r.bo.Uint32(b[:])
}

func (r *reader) uword(b []byte) uint64 {
	if r.ptr == 4 {
		return uint64(r.bo.Uint32(b))
	}
	return r.bo.Uint64(b)
}

// bulk reads n bytes at addr, refusing absurd sizes from corrupt headers.
func (r *reader) bulk(addr, n uint64, what string) []byte {
	if r.err != nil {
		return nil
	}
	if n > 256<<20 {
		r.keep(fmt.Errorf("%s: %d bytes at %#x is not a plausible size", what, n, addr))
		return nil
	}
	// Probe the last byte first: a corrupt size then fails before a big
	// allocation.
	var probe [1]byte
	if err := r.m.ReadVirt(addr+n-1, probe[:]); n > 0 && err != nil {
		r.keep(fmt.Errorf("%s: %d bytes at %#x: %w", what, n, addr, err))
		return nil
	}
	b := make([]byte, n)
	if err := r.m.ReadVirt(addr, b); err != nil {
		r.keep(fmt.Errorf("%s: %w", what, err))
		return nil
	}
	return b
}

// Write prints records as dmesg and crash's log do: "[%5d.%06d] text",
// every line of a multi-line record with the same prefix; with levels,
// "<N>" before each.
func (l *Log) Write(w io.Writer, levels bool) error {
	for _, rec := range l.Records {
		for _, line := range strings.Split(strings.TrimSuffix(rec.Text, "\n"), "\n") {
			var err error
			if levels {
				_, err = fmt.Fprintf(w, "<%d>[%5d.%06d] %s\n", rec.Level, rec.TimeNS/1e9, rec.TimeNS%1e9/1e3, escape.Text(line))
			} else {
				_, err = fmt.Fprintf(w, "[%5d.%06d] %s\n", rec.TimeNS/1e9, rec.TimeNS%1e9/1e3, escape.Text(line))
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

func sortBySeq(recs []Record) {
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].Seq < recs[j].Seq })
}

func cstring(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}
