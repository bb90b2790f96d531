package qemu

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
)

// Stage is one thing the console must show, within Timeout of the
// previous stage. Fail, when it matches first, ends the wait at once.
type Stage struct {
	Name    string
	Marker  *regexp.Regexp
	Fail    *regexp.Regexp
	Timeout time.Duration
}

// StageError is a stage that did not come: its name, the likely cause
// read from the console, the console's last lines and the full log's path.
type StageError struct {
	Stage   string
	Reason  string // "timed out after 2m0s" or the failure line
	Cause   string
	Tail    []string
	LogPath string
}

func (e *StageError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "stage %q: %s", e.Stage, e.Reason)
	if e.Cause != "" {
		fmt.Fprintf(&b, "\n  likely cause: %s", e.Cause)
	}
	fmt.Fprintf(&b, "\n  last %d console lines:", len(e.Tail))
	for _, l := range e.Tail {
		fmt.Fprintf(&b, "\n    | %s", l)
	}
	if e.LogPath != "" {
		fmt.Fprintf(&b, "\n  full console log: %s", e.LogPath)
	}
	return b.String()
}

// Reached is a stage and when it came.
type Reached struct {
	Stage    string
	Line     string
	Duration time.Duration // since the previous stage
}

// Watch reads the console and waits for each stage in turn, calling
// reached as each arrives. The whole console text seen is kept for
// diagnosis; the reader is drained to the end afterwards by the caller.
type Watcher struct {
	Stages  []Stage
	LogPath string
	Reached func(Reached)
	// EndReason is the failure when the console ends before the last
	// stage; "" means QEMU exited.
	EndReason string

	lines []string
}

// Lines is everything read so far.
func (w *Watcher) Lines() []string { return w.lines }

// Watch returns nil when every stage came, else a *StageError.
func (w *Watcher) Watch(r io.Reader) error {
	lines := make(chan string, 256)
	go func() {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			lines <- strings.TrimRight(sc.Text(), "\r")
		}
		close(lines)
	}()
	for _, st := range w.Stages {
		start := time.Now()
		timer := time.NewTimer(st.Timeout)
		done := false
		for !done {
			select {
			case l, ok := <-lines:
				if !ok {
					timer.Stop()
					reason := w.EndReason
					if reason == "" {
						reason = "the console ended (QEMU exited)"
					}
					return w.fail(st, reason)
				}
				w.lines = append(w.lines, l)
				if st.Fail != nil && st.Fail.MatchString(l) {
					timer.Stop()
					return w.fail(st, "failed: "+l)
				}
				if st.Marker.MatchString(l) {
					timer.Stop()
					if w.Reached != nil {
						w.Reached(Reached{st.Name, l, time.Since(start)})
					}
					done = true
				}
			case <-timer.C:
				return w.fail(st, fmt.Sprintf("timed out after %s", st.Timeout))
			}
		}
	}
	go func() {
		for l := range lines {
			_ = l // keep QEMU's pipe flowing after the last stage
		}
	}()
	return nil
}

func (w *Watcher) fail(st Stage, reason string) error {
	tail := w.lines[max(0, len(w.lines)-30):]
	return &StageError{Stage: st.Name, Reason: reason, Cause: Diagnose(w.lines), Tail: tail, LogPath: w.LogPath}
}

// causes are console patterns and what they usually mean, most specific
// first.
var causes = []struct {
	re    *regexp.Regexp
	cause string
}{
	{regexp.MustCompile(`CAPTURE FAILED no /proc/vmcore`), "the capture kernel has no /proc/vmcore: enable CONFIG_PROC_VMCORE and CONFIG_CRASH_DUMP"},
	{regexp.MustCompile(`crashkernel reservation failed`), "crashkernel= is too big for the board's RAM (ARM aligns the reservation to 128 MiB): raise qemu.memory or lower crashkernel="},
	{regexp.MustCompile(`LOAD FAILED.*(EINVAL|invalid argument)`), "kexec_load EINVAL: more than one CPU is possible and the platform cannot stop CPUs (no cpu_kill): add nr_cpus=1 to kernel.cmdline"},
	{regexp.MustCompile(`LOAD FAILED.*Crash kernel`), "no crash region: crashkernel= is missing from kernel.cmdline or the reservation failed"},
	{regexp.MustCompile(`LOAD FAILED`), "the crash kernel did not load: see the kexec error above"},
	{regexp.MustCompile(`CAPTURE FAILED`), "the capture tool could not save the dump to any target: see its fallback lines"},
}

// Diagnose names the likely cause of a failed run from its console.
func Diagnose(lines []string) string {
	text := strings.Join(lines, "\n")
	for _, c := range causes {
		if m := c.re.FindString(text); m != "" {
			return c.cause + " (console: " + quoteLine(lines, c.re) + ")"
		}
	}
	boots := strings.Count(text, "Booting Linux on physical CPU")
	switch {
	case boots == 0:
		return "the kernel printed nothing: wrong image, DTB or console= for this machine"
	case !strings.Contains(text, "for crashkernel") && !strings.Contains(text, "crashkernel"):
		return "the kernel reserved no crash region: is crashkernel= on kernel.cmdline?"
	case strings.Contains(text, "Kernel panic") && boots == 1:
		if strings.Contains(text, "Loading crashdump kernel") || strings.Contains(text, "Starting crashdump kernel") {
			return "the crash kernel did not start after the kexec line: it may not fit the reservation, lack its console, or (ARM32) lack AUTO_ZRELADDR"
		}
		return "the kernel panicked but did not start the crash kernel: was it loaded (READY marker)?"
	case boots >= 2 && !strings.Contains(text, "CAPTURE KERNEL UP"):
		return "the capture kernel booted but found no /proc/vmcore: CONFIG_PROC_VMCORE (or CRASH_DUMP) is off"
	}
	return ""
}

func quoteLine(lines []string, re *regexp.Regexp) string {
	for _, l := range lines {
		if re.MatchString(l) {
			return strings.TrimSpace(l)
		}
	}
	return ""
}
