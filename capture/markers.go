package capture

// Console markers: the target prints these lines on its console and the
// host's watcher waits for them. They are a protocol: change both sides.
const (
	// MarkerReady follows a successful crash-kernel load: "KDUMPKIT: READY crash kernel loaded".
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
