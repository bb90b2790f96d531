package pipeline

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/kdumpkit/kdumpkit/protocol"
)

// Truth is what the console says happened, to check the analyzer against.
type Truth struct {
	Release   string
	Tasks     map[int]string // PID → comm, printed before the crash
	LogTail   []string       // the last kernel log lines before the crash, as klogctl gave them
	Panic     string         // "sysrq triggered crash"
	PanicPID  int
	PanicComm string
	// Frames are the functions of the console's backtrace(s) after the
	// panic or oops, in order ("X from Y" lines give X).
	Frames []string
	// LastLine is the last kernel line before the kexec into the crash
	// kernel ("Loading crashdump kernel..." on ARM32, "Starting crashdump
	// kernel..." on arm64).
	LastLine string
	// Text and CaptureText are where the first and the capture kernel's
	// _text ran (/proc/kallsyms); 0 when the console did not say. Against
	// the vmlinux's link address they give each boot's KASLR offset.
	Text, CaptureText uint64
	// SavedSHA256 and SavedSize are what the capture tool reported.
	SavedSHA256 string
	SavedSize   int64

	oops map[string]string // oops prefix → first line with it
}

var (
	stampRe = regexp.MustCompile(`^\[\s*\d+\.\d+\] ?`)
	panicRe = regexp.MustCompile(`Kernel panic - not syncing: (.*)$`)
	// 6.12 added "UID: N" between CPU and PID.
	cpuRe = regexp.MustCompile(`CPU: \d+ (?:UID: \d+ )?PID: (\d+) Comm: (\S+)`)
	// ARM32 prints "X from Y+0x…" lines.
	frameRe = regexp.MustCompile(`^\s*(\S+) from (\S+)\+0x`)
	// arm64 (and x86_64) print "Call trace:" then one "function+0xOFF/0xSIZE"
	// line per return address.
	traceStartRe = regexp.MustCompile(`^\s*Call [Tt]race:`)
	traceLineRe  = regexp.MustCompile(`^\s*([A-Za-z_.$][\w.$]*)\+0x([0-9a-f]+)/0x[0-9a-f]+(?: \[[\w-]+\])?\s*$`)
	kexecRe      = regexp.MustCompile(`(Loading|Starting) crashdump kernel`)
	levelRe      = regexp.MustCompile(`^<\d+>`)
	// oopsRe matches the oops lines crash (and the analyzer) take as the
	// panic message when there is no "Kernel panic" line.
	oopsRe    = regexp.MustCompile(`(Unable to handle kernel |Internal error: |kernel BUG at ).*$`)
	oopsOrder = []string{"Unable to handle kernel ", "Internal error: ", "kernel BUG at "}
)

// ParseTruth reads a kdump test run's console.
func ParseTruth(lines []string) *Truth {
	t := &Truth{Tasks: map[int]string{}, oops: map[string]string{}}
	inTruth, sawPanic, crashing, inTrace := false, false, false, false
	for i, l := range lines {
		switch {
		case strings.Contains(l, protocol.MarkerTruthBegin):
			inTruth = true
		case strings.Contains(l, protocol.MarkerTruthEnd):
			inTruth = false
		case strings.Contains(l, protocol.MarkerCrashing):
			// Backtraces before this (boot-time WARNINGs) are not the crash's.
			crashing = true
		case inTruth:
			t.truthLine(l)
		case strings.Contains(l, protocol.MarkerCaptureUp):
			if _, v, ok := strings.Cut(l, " text="); ok {
				t.CaptureText, _ = strconv.ParseUint(strings.TrimPrefix(strings.TrimSpace(v), "0x"), 16, 64)
			}
		case kexecRe.MatchString(l) && t.LastLine == "":
			for j := i - 1; j >= 0; j-- {
				if stampRe.MatchString(lines[j]) {
					t.LastLine = strings.TrimSpace(stampRe.ReplaceAllString(lines[j], ""))
					break
				}
			}
		}
		// Without the marker (a console of another tool), the crash
		// starts at its first panic or oops line.
		crashing = crashing || panicRe.MatchString(l) || oopsRe.MatchString(l)
		if !crashing {
			continue
		}
		if m := panicRe.FindStringSubmatch(l); m != nil && !sawPanic {
			t.Panic, sawPanic = strings.TrimSpace(m[1]), true
		}
		if m := oopsRe.FindStringSubmatch(l); m != nil {
			if _, seen := t.oops[m[1]]; !seen {
				t.oops[m[1]] = strings.TrimSpace(m[0])
			}
		}
		if m := cpuRe.FindStringSubmatch(l); m != nil && t.PanicPID == 0 {
			// The first CPU line after the crash names the crashing task,
			// whether an oops or the panic printed it.
			if pid, ok := pidOf(m[1]); ok {
				t.PanicPID, t.PanicComm = pid, m[2]
			}
		}
		bare := stampRe.ReplaceAllString(l, "")
		if m := frameRe.FindStringSubmatch(bare); m != nil && crashing && t.LastLine == "" {
			t.Frames = append(t.Frames, m[1])
		}
		if traceStartRe.MatchString(bare) {
			inTrace = true
			continue
		}
		if inTrace {
			m := traceLineRe.FindStringSubmatch(bare)
			switch {
			case m == nil:
				inTrace = false
			case m[2] == "0" || t.LastLine != "":
				// A return address at a function's first byte follows a
				// noreturn call at the end of the function before it: the
				// kernel names the wrong function there
				// ("sysrq_reset_seq_param_set+0x0/0x…" for
				// sysrq_handle_crash's call to panic), so the line says
				// nothing about the caller.
			default:
				t.Frames = append(t.Frames, m[1])
			}
		}
		if s, ok := protocol.ParseSaved(l); ok {
			t.SavedSize, t.SavedSHA256 = s.Size, s.SHA256
		}
	}
	for _, prefix := range oopsOrder {
		// An oops goes to the crash kernel without a panic line; the
		// analyzer then reports an oops line, in crash's order of
		// preference rather than the console's order.
		if msg := t.oops[prefix]; t.Panic == "" && msg != "" {
			t.Panic = msg
		}
	}
	return t
}

func (t *Truth) truthLine(l string) {
	kind, rest, _ := strings.Cut(strings.TrimSpace(l), " ")
	switch kind {
	case "release":
		t.Release = rest
	case "text":
		t.Text, _ = strconv.ParseUint(strings.TrimPrefix(rest, "0x"), 16, 64)
	case "task":
		f := strings.SplitN(rest, " ", 4)
		if len(f) == 4 {
			if pid, ok := pidOf(f[0]); ok {
				t.Tasks[pid] = f[3]
			}
		}
	case "log":
		t.LogTail = append(t.LogTail, stampRe.ReplaceAllString(levelRe.ReplaceAllString(rest, ""), ""))
	}
}

// pidOf reads a PID as the kernel prints it: decimal, never negative, and
// within an int (a number that does not fit is no PID, not MaxInt).
func pidOf(s string) (int, bool) {
	pid, err := strconv.Atoi(s)
	return pid, err == nil && pid >= 0 && !strings.HasPrefix(s, "+")
}
