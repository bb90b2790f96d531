package commands

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kdumpkit/kdumpkit/analyze/kernel"
)

// benchCommands is the work measured against drgn's equivalent.
const benchCommands = "sys; ps; log; bt"

// BenchmarkReferenceSession runs "sys; ps; log; bt" on the reference dump:
// cold (no DWARF index cache: the first run on a new kernel) and warm (the
// index cache filled by an earlier run), each from opening the files; then,
// in the same run, drgn's equivalent when python3-drgn is installed. It
// reports wall times and peak RSS; it asserts nothing about speed.
func BenchmarkReferenceSession(b *testing.B) {
	dir := referenceDir(b)
	cache := b.TempDir()
	session := func(cacheDir string) {
		img, err := kernel.LoadImage(filepath.Join(dir, "vmlinux"), cacheDir, 0)
		if err != nil {
			b.Fatal(err)
		}
		defer img.Close()
		core := openVmcore(b, filepath.Join(dir, "vmcore"))
		s, err := NewSession(img, core, core.Printk(), io.Discard)
		if err != nil {
			b.Fatal(err)
		}
		var out bytes.Buffer
		_ = s.Exec(benchCommands, &out, &out)
		if out.Len() == 0 {
			b.Fatal("no output")
		}
	}
	b.Run("cold", func(b *testing.B) {
		runtime.GC()
		debug.FreeOSMemory()
		resetRSS()
		for i := 0; b.Loop(); i++ {
			session(filepath.Join(cache, "cold", time.Now().Format("150405.000000000")))
		}
		reportRSS(b)
	})
	b.Run("warm", func(b *testing.B) {
		session(filepath.Join(cache, "warm")) // fill the cache
		runtime.GC()
		debug.FreeOSMemory()
		resetRSS()
		for b.Loop() {
			session(filepath.Join(cache, "warm"))
		}
		reportRSS(b)
	})
	b.Run("drgn", func(b *testing.B) {
		python := "/usr/bin/python3"
		check := exec.Command(python, "-c", "import drgn")
		if err := check.Run(); err != nil {
			b.Skipf("drgn not installed for %s (apt-get install python3-drgn): %v", python, err)
		}
		var hwm int64
		for b.Loop() {
			cmd := exec.Command(python, "testdata/drgn_equivalent.py", filepath.Join(dir, "vmlinux"), filepath.Join(dir, "vmcore"))
			out, err := cmd.CombinedOutput()
			if err != nil {
				b.Fatalf("drgn: %v\n%s", err, out)
			}
			hwm = max(hwm, vmHWM(out))
		}
		b.ReportMetric(float64(hwm)/1024, "peak-RSS-MiB")
	})
}

// resetRSS restarts the peak-RSS count of this process (Linux ≥ 4.0), so
// each sub-benchmark reports its own peak.
func resetRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// reportRSS reports this process's peak resident set size since resetRSS.
func reportRSS(b *testing.B) {
	status, err := os.ReadFile("/proc/self/status")
	if err == nil {
		b.ReportMetric(float64(vmHWM(status))/1024, "peak-RSS-MiB")
	}
}

// vmHWM finds "VmHWM:  123 kB" in /proc/PID/status text.
func vmHWM(status []byte) int64 {
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return n
		}
	}
	return 0
}
