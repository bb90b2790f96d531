package pipeline

import (
	"strconv"
	"strings"
	"testing"
)

// TestParseTruthRefusesNumbersOutOfRange: a PID or size that does not
// fit is not a fact, rather than the largest integer.
func TestParseTruthRefusesNumbersOutOfRange(t *testing.T) {
	tr := ParseTruth([]string{
		"KDUMPKIT: GROUND TRUTH BEGIN", "task 99999999999999999999 0 S huge", "task -5 0 S negative", "KDUMPKIT: GROUND TRUTH END",
		"Kernel panic - not syncing: x", "CPU: 0 PID: 99999999999999999999 Comm: big",
		"KDUMPKIT: VMCORE SAVED target=9p:dump size=99999999999999999999 sha256=" + strings.Repeat("ab", 32),
	})
	if len(tr.Tasks) != 0 || tr.PanicPID != 0 || tr.PanicComm != "" || tr.SavedSize != 0 || tr.SavedSHA256 != "" {
		t.Errorf("tasks %v, panic PID %d comm %q, saved %d %q: want none of them", tr.Tasks, tr.PanicPID, tr.PanicComm, tr.SavedSize, tr.SavedSHA256)
	}
}

// FuzzParseTruth: whatever the console holds, every fact ParseTruth
// returns is in it.
func FuzzParseTruth(f *testing.F) {
	f.Add(console)
	f.Add(oopsConsole)
	f.Add("KDUMPKIT: GROUND TRUTH BEGIN\ntask 1 0 S a b c\nlog <6>[ 1.0] x\nrelease \nKDUMPKIT: GROUND TRUTH END\nCPU: 0 PID: 7 Comm: x\n")
	f.Fuzz(func(t *testing.T, text string) {
		tr := ParseTruth(strings.Split(text, "\n"))
		in := func(what, s string) {
			if !strings.Contains(text, s) {
				t.Fatalf("%s %q is not in the console", what, s)
			}
		}
		in("release", tr.Release)
		in("panic", tr.Panic)
		in("panic comm", tr.PanicComm)
		in("last line", tr.LastLine)
		in("saved sha256", tr.SavedSHA256)
		for pid, comm := range tr.Tasks {
			if pid < 0 {
				t.Fatalf("task PID %d", pid)
			}
			in("task PID", strconv.Itoa(pid))
			in("task comm", comm)
		}
		for _, l := range tr.LogTail {
			in("log line", l)
		}
		for _, fn := range tr.Frames {
			in("frame", fn)
		}
		if tr.PanicPID != 0 {
			in("panic PID", strconv.Itoa(tr.PanicPID))
		}
		if tr.SavedSHA256 != "" {
			in("saved size", "size="+strconv.FormatInt(tr.SavedSize, 10))
		}
		if tr.PanicPID < 0 || tr.SavedSize < 0 {
			t.Fatalf("panic PID %d, saved size %d", tr.PanicPID, tr.SavedSize)
		}
	})
}
