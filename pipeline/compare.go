package pipeline

import (
	"debug/elf"
	"fmt"
	"strings"
)

// Analysis is what the analyzer said (its --json output for sys, bt, ps
// and log).
type Analysis struct {
	Release   string
	Panic     string
	PanicPID  int
	PanicComm string
	Frames    []string // bt of the panic task, innermost first
	Tasks     map[int]string
	Log       []string // every record's text
	// KernelOffset is the KASLR offset the analyzer applied (VMCOREINFO).
	KernelOffset uint64
}

// Disagreement is one fact on which console and analyzer differ.
type Disagreement struct {
	Fact, Console, Analyzer string
}

func (d Disagreement) String() string {
	return fmt.Sprintf("%s:\n      console:  %s\n      analyzer: %s", d.Fact, d.Console, d.Analyzer)
}

// Compare checks the analysis against the console's ground truth and
// returns how many facts agreed and every disagreement. linkText is the
// vmlinux's _text (0: unknown), from which the console's _text gives the
// KASLR offset.
func Compare(t *Truth, a *Analysis, linkText uint64) (agreed int, ds []Disagreement) {
	check := func(fact string, ok bool, console, analyzer string) {
		if ok {
			agreed++
		} else {
			ds = append(ds, Disagreement{fact, console, analyzer})
		}
	}
	if t.Release != "" {
		check("release", a.Release == t.Release, t.Release, a.Release)
	}
	check("panic string", a.Panic == t.Panic, t.Panic, a.Panic)
	check("panic PID", a.PanicPID == t.PanicPID, fmt.Sprint(t.PanicPID), fmt.Sprint(a.PanicPID))
	check("panic comm", a.PanicComm == t.PanicComm, t.PanicComm, a.PanicComm)
	matched, missing := matchFrames(t.Frames, a.Frames)
	check("backtrace functions", missing == "" && matched >= 1,
		strings.Join(t.Frames, " ← "), strings.Join(a.Frames, " ← ")+fmt.Sprintf(" (%d console frames matched%s)", matched, missing))
	var lost []string
	for pid, comm := range t.Tasks {
		got, ok := a.Tasks[pid]
		if !ok || !strings.HasPrefix(comm, got) {
			lost = append(lost, fmt.Sprintf("%d %s (analyzer: %q)", pid, comm, got))
		}
	}
	check(fmt.Sprintf("%d tasks listed before the crash", len(t.Tasks)), len(lost) == 0 && len(t.Tasks) > 0,
		fmt.Sprintf("%d tasks", len(t.Tasks)), "missing or renamed: "+strings.Join(lost, ", "))
	if len(t.LogTail) > 0 {
		check("log tail before the crash", containsInOrder(a.Log, t.LogTail), strings.Join(t.LogTail, " | "), lastN(a.Log, len(t.LogTail)+3))
	}
	if t.Text != 0 && linkText != 0 {
		off := t.Text - linkText
		check("KASLR offset", a.KernelOffset == off, fmt.Sprintf("%#x (_text %#x)", off, t.Text), fmt.Sprintf("%#x", a.KernelOffset))
	}
	if t.LastLine != "" {
		check("last log line before the dump", containsInOrder(tail(a.Log, 3), []string{t.LastLine}), t.LastLine, lastN(a.Log, 3))
	}
	return agreed, ds
}

// matchFrames finds the console's frames, in order, among the
// analyzer's. Console frames before the first one the analyzer knows are
// the printing path (unwind_backtrace, show_stack, dump_stack_lvl), not
// the crash-time stack. The kernel console names a noreturn call's caller
// wrongly ("panic from sysrq_reset_seq_param_set+0x0"): only the X of
// "X from Y" lines is compared, which the kernel gets right.
func matchFrames(console, analyzer []string) (int, string) {
	idx := map[string]bool{}
	for _, f := range analyzer {
		idx[f] = true
	}
	start := 0
	for start < len(console) && !idx[console[start]] {
		start++
	}
	j, matched := 0, 0
	for _, f := range console[start:] {
		for j < len(analyzer) && analyzer[j] != f {
			j++
		}
		if j == len(analyzer) {
			return matched, "; " + f + " missing or out of order"
		}
		matched++
		j++
	}
	return matched, ""
}

func containsInOrder(have, want []string) bool {
	j := 0
	for _, h := range have {
		if j < len(want) && strings.TrimSpace(h) == strings.TrimSpace(want[j]) {
			j++
		}
	}
	return j == len(want)
}

func tail(s []string, n int) []string { return s[max(0, len(s)-n):] }

func lastN(s []string, n int) string { return strings.Join(tail(s, n), " | ") }

// symbolAddr is a symbol's link-time address in an ELF file.
func symbolAddr(path, name string) (uint64, error) {
	f, err := elf.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	for _, s := range syms {
		if s.Name == name {
			return s.Value, nil
		}
	}
	return 0, fmt.Errorf("%s has no symbol %s", path, name)
}
