package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/kdumpkit/kdumpkit/internal/testdump"
)

// BenchmarkAnalyzeProcess times whole `kdumpkit analyze -c "sys; ps; log;
// bt"` processes on the test dump (package testdump) — cold (empty cache directory, as on
// a new machine) and warm (the DWARF name index cached) — and, in the same
// run, drgn's equivalent (analyze/commands/testdata/drgn_equivalent.py:
// release, task walk, printk records; drgn 0.0.22 has no ARM core unwinder)
// when python3-drgn is installed. Peak RSS is each child's ru_maxrss (the
// benchmark process itself stays small, so the pre-exec share that maxrss
// also counts does not matter).
func BenchmarkAnalyzeProcess(b *testing.B) {
	d := testdump.Require(b)
	vmlinux, vmcore := d.Vmlinux, d.Vmcore
	bin := filepath.Join(b.TempDir(), "kdumpkit")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	run := func(b *testing.B, cache string, name string, args ...string) int64 {
		cmd := exec.Command(name, args...)
		cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+cache)
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("%s: %v\n%s", name, err, out)
		}
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			return ru.Maxrss
		}
		return 0
	}
	ours := func(b *testing.B, warm bool) {
		cache := b.TempDir()
		if warm {
			run(b, cache, bin, "analyze", "-c", "sys", vmlinux, vmcore)
		}
		var rss int64
		for b.Loop() {
			if !warm {
				b.StopTimer()
				os.RemoveAll(filepath.Join(cache, "kdumpkit"))
				b.StartTimer()
			}
			rss = max(rss, run(b, cache, bin, "analyze", "-c", "sys; ps; log; bt", vmlinux, vmcore))
		}
		b.ReportMetric(float64(rss)/1024, "peak-RSS-MiB")
	}
	b.Run("kdumpkit-cold", func(b *testing.B) { ours(b, false) })
	b.Run("kdumpkit-warm", func(b *testing.B) { ours(b, true) })
	b.Run("drgn", func(b *testing.B) {
		if err := exec.Command("/usr/bin/python3", "-c", "import drgn").Run(); err != nil {
			b.Skipf("drgn not installed (apt-get install python3-drgn): %v", err)
		}
		script, _ := filepath.Abs("../../analyze/commands/testdata/drgn_equivalent.py")
		var rss int64
		for b.Loop() {
			rss = max(rss, run(b, b.TempDir(), "/usr/bin/python3", script, vmlinux, vmcore))
		}
		b.ReportMetric(float64(rss)/1024, "peak-RSS-MiB")
	})
}
