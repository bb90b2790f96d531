package protocol

import (
	"fmt"
	"regexp"
	"strconv"
)

// Console markers: the target prints these lines on its console and the
// host's watcher waits for them. They are a protocol: change both sides.
const (
	// MarkerReady follows a successful crash-kernel load and says how:
	// "KDUMPKIT: READY crash kernel loaded with kexec_file_load (kdumpkit.kexec=auto)".
	MarkerReady = "KDUMPKIT: READY"
	// MarkerLoadFailed precedes the kexec error in words.
	MarkerLoadFailed = "KDUMPKIT: LOAD FAILED"
	// MarkerTruthBegin and MarkerTruthEnd enclose the ground truth the
	// first kernel prints before it crashes (release, tasks, log tail).
	MarkerTruthBegin = "KDUMPKIT: GROUND TRUTH BEGIN"
	MarkerTruthEnd   = "KDUMPKIT: GROUND TRUTH END"
	// MarkerCrashing names the crash about to be triggered: "KDUMPKIT: CRASHING sysrq".
	MarkerCrashing = "KDUMPKIT: CRASHING"
	// MarkerCaptureUp is printed by the capture kernel's init.
	MarkerCaptureUp = "KDUMPKIT: CAPTURE KERNEL UP"
	// MarkerSaved is "KDUMPKIT: VMCORE SAVED target=T size=N sha256=H".
	MarkerSaved = "KDUMPKIT: VMCORE SAVED"
	// MarkerCaptureFailed means every target failed.
	MarkerCaptureFailed = "KDUMPKIT: CAPTURE FAILED"
	// MarkerPowerOff is printed just before the capture kernel powers off.
	MarkerPowerOff = "KDUMPKIT: POWER OFF"
)

// Saved is what the capture tool reports once a target took the dump
// whole; the host checks the vmcore it brings home against it.
type Saved struct {
	Target string // the target's label (an HTTP target's token left out)
	Size   int64
	SHA256 string // lower-case hex
}

// String is the console line: "KDUMPKIT: VMCORE SAVED target=T size=N sha256=H".
func (s Saved) String() string {
	return fmt.Sprintf("%s target=%s size=%d sha256=%s", MarkerSaved, s.Target, s.Size, s.SHA256)
}

var savedRe = regexp.MustCompile(regexp.QuoteMeta(MarkerSaved) + ` target=(\S*) size=(\d+) sha256=([0-9a-f]{64})\s*$`)

// ParseSaved reads a Saved line back, wherever it starts in a console
// line (a kernel message may precede it on a shared console); ok is false
// for anything else, including a size that does not fit in an int64.
func ParseSaved(line string) (s Saved, ok bool) {
	m := savedRe.FindStringSubmatch(line)
	if m == nil {
		return Saved{}, false
	}
	size, err := strconv.ParseInt(m[2], 10, 64)
	if err != nil {
		return Saved{}, false
	}
	return Saved{Target: m[1], Size: size, SHA256: m[3]}, true
}
