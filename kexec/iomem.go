package kexec

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ErrNoCrashRegion means /proc/iomem has no "Crash kernel" entry: the
// kernel was booted without crashkernel= or the reservation failed.
var ErrNoCrashRegion = errors.New(`no "Crash kernel" region in /proc/iomem`)

// Range is an inclusive physical address range, as /proc/iomem prints.
type Range struct {
	Start, End uint64
}

// Size is the range's length in bytes.
func (r Range) Size() uint64 { return r.End - r.Start + 1 }

func (r Range) String() string { return fmt.Sprintf("%#x-%#x", r.Start, r.End) }

// Resource is one /proc/iomem line; Depth counts the two-space indents.
type Resource struct {
	Range
	Name  string
	Depth int
}

// ParseIOMem reads /proc/iomem: "START-END : NAME", nested entries
// indented by two spaces per level.
func ParseIOMem(r io.Reader) ([]Resource, error) {
	var out []Resource
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		trimmed := strings.TrimLeft(line, " ")
		depth := (len(line) - len(trimmed)) / 2
		rng, name, ok := strings.Cut(trimmed, " : ")
		if !ok {
			return nil, fmt.Errorf("/proc/iomem line %d %q: want START-END : NAME", n, line)
		}
		lo, hi, ok := strings.Cut(rng, "-")
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if !ok || err1 != nil || err2 != nil || end < start {
			return nil, fmt.Errorf("/proc/iomem line %d %q: bad range %q", n, line, rng)
		}
		out = append(out, Resource{Range{start, end}, strings.TrimSpace(name), depth})
	}
	return out, sc.Err()
}

// Memory is what a crash load needs from /proc/iomem.
type Memory struct {
	RAM   []Range // top-level System RAM banks
	Crash Range   // the crashkernel= reservation
	// Low is the "Crash kernel (low)" part of a crashkernel=SIZE,high
	// reservation (DMA-able memory for the capture kernel; the segments
	// go in Crash); nil when the reservation is in one piece.
	Low *Range
}

// MemoryFrom picks the RAM banks and the crash region. The crash region
// is nested under a RAM bank on most kernels and at top level on some.
func MemoryFrom(res []Resource) (Memory, error) {
	var m Memory
	found := false
	for _, r := range res {
		switch {
		case r.Depth == 0 && r.Name == "System RAM":
			m.RAM = append(m.RAM, r.Range)
		case r.Name == "Crash kernel" && !found:
			m.Crash, found = r.Range, true
		case r.Name == "Crash kernel (low)" && m.Low == nil:
			low := r.Range
			m.Low = &low
		}
	}
	if len(m.RAM) == 0 {
		return m, errors.New(`no "System RAM" in /proc/iomem`)
	}
	if !found {
		return m, ErrNoCrashRegion
	}
	return m, nil
}

// Usable is the RAM the crashed kernel owned: every bank minus the crash
// region — what the capture kernel must dump.
func (m Memory) Usable() []Range { return subtract(m.RAM, m.Crash) }

// Reserved is every part of the crashkernel= reservation: the crash
// region, and its low part when there is one.
func (m Memory) Reserved() []Range {
	if m.Low == nil {
		return []Range{m.Crash}
	}
	return []Range{m.Crash, *m.Low}
}

// subtract cuts hole out of each range, keeping the order.
func subtract(rs []Range, hole Range) []Range {
	var out []Range
	for _, r := range rs {
		if hole.End < r.Start || hole.Start > r.End {
			out = append(out, r)
			continue
		}
		if r.Start < hole.Start {
			out = append(out, Range{r.Start, hole.Start - 1})
		}
		if r.End > hole.End {
			out = append(out, Range{hole.End + 1, r.End})
		}
	}
	return out
}
