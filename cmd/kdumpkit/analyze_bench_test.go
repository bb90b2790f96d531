package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kdumpkit/kdumpkit/internal/testdump"
)

// benchCommands is the session measured against drgn.
const benchCommands = "sys; bt; ps; log"

// benchRounds is how many cold, warm and drgn runs one benchmark
// iteration makes, interleaved so that load on the machine hits all three
// alike; the medians are reported.
const benchRounds = 7

// drgnSubset says what the drgn side does (the script's doc string has
// the details).
const drgnSubset = "drgn's subset: sys (release, version, machine, nodename, task count, jiffies, panic task), " +
	"ps (pid, ppid, cpu, state, comm of every task), log (every printk record); " +
	"no bt: drgn 0.0.22 cannot unwind ARM32 stacks from a core dump"

// cost is one process's cost.
type cost struct {
	wall, cpu time.Duration
	rssKiB    int64
}

// BenchmarkAnalyzeProcess times whole `kdumpkit analyze -c "sys; bt; ps;
// log"` processes on the test dump (package testdump): cold (an empty
// cache directory, so the DWARF name index is built from nothing, as on a
// new machine or a new kernel) and warm (the index cached by the cold run
// before it), beside drgn's equivalent
// (analyze/commands/testdata/drgn_equivalent.py) when python3-drgn is
// installed for /usr/bin/python3 — all in one run, interleaved, with the
// load average, so the numbers can be compared. File pages of the dump
// are in the page cache for all three. It reports; it asserts nothing
// about speed.
func BenchmarkAnalyzeProcess(b *testing.B) {
	d := testdump.Require(b)
	dir := b.TempDir()
	bin := filepath.Join(dir, "kdumpkit")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	script, err := filepath.Abs("../../analyze/commands/testdata/drgn_equivalent.py")
	if err != nil {
		b.Fatal(err)
	}
	const python = "/usr/bin/python3"
	drgnVersion, drgnErr := exec.Command(python, "-c", "import drgn; print(drgn.__version__)").Output()
	ours := []string{"analyze", "-c", benchCommands, d.Vmlinux, d.Vmcore}
	cache := filepath.Join(dir, "cache")
	var cold, warm, drgn []cost
	loadBefore := loadAverage()
	for b.Loop() {
		for range benchRounds {
			if err := os.RemoveAll(cache); err != nil {
				b.Fatal(err)
			}
			cold = append(cold, runProcess(b, cache, bin, ours...))
			warm = append(warm, runProcess(b, cache, bin, ours...))
			if drgnErr == nil {
				drgn = append(drgn, runProcess(b, dir, python, script, d.Vmlinux, d.Vmcore))
			}
		}
	}
	loadAfter := loadAverage()
	c, w := median(cold), median(warm)
	b.ReportMetric(c.wall.Seconds(), "cold-s")
	b.ReportMetric(w.wall.Seconds(), "warm-s")
	b.ReportMetric(float64(max(c.rssKiB, w.rssKiB))/1024, "peak-RSS-MiB")
	var table strings.Builder
	fmt.Fprintf(&table, "%q on %s (medians of %d interleaved rounds; load average %s before, %s after)\n",
		benchCommands, d.Vmcore, len(cold), loadBefore, loadAfter)
	fmt.Fprintf(&table, "  %-22s %9s %9s %10s\n", "", "wall", "cpu", "peak RSS")
	line := func(name string, r cost, vs string) {
		fmt.Fprintf(&table, "  %-22s %8.3fs %8.3fs %6d MiB  %s\n", name, r.wall.Seconds(), r.cpu.Seconds(), r.rssKiB/1024, vs)
	}
	if len(drgn) == 0 {
		line("kdumpkit cold", c, "")
		line("kdumpkit warm", w, "")
		b.Logf("%sdrgn not measured (apt-get install python3-drgn for /usr/bin/python3): %v", &table, drgnErr)
		return
	}
	g := median(drgn)
	ratio := func(a, b time.Duration) float64 { return a.Seconds() / b.Seconds() }
	b.ReportMetric(g.wall.Seconds(), "drgn-s")
	b.ReportMetric(ratio(c.wall, g.wall), "cold/drgn")
	b.ReportMetric(ratio(w.wall, g.wall), "warm/drgn")
	b.ReportMetric(float64(g.rssKiB)/1024, "drgn-peak-RSS-MiB")
	line("kdumpkit cold", c, fmt.Sprintf("%.2fx drgn's wall, %.2fx its cpu (goal <= 0.5x wall)", ratio(c.wall, g.wall), ratio(c.cpu, g.cpu)))
	line("kdumpkit warm", w, fmt.Sprintf("%.2fx drgn's wall, %.2fx its cpu (goal <= 0.15x wall)", ratio(w.wall, g.wall), ratio(w.cpu, g.cpu)))
	line("drgn "+strings.TrimSpace(string(drgnVersion)), g, "")
	b.Logf("%s  %s", &table, drgnSubset)
}

// runProcess runs one process with XDG_CACHE_HOME=cache and measures it.
// Peak RSS is the VmHWM line a child prints last (the drgn script), else
// its ru_maxrss (the benchmark process itself stays smaller than the
// analyzer, so the pre-exec share that maxrss also counts does not matter).
func runProcess(b *testing.B, cache, name string, args ...string) cost {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+cache)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	r := cost{wall: time.Since(start)}
	if err != nil {
		b.Fatalf("%s: %v\n%s", name, err, out.Bytes())
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		r.rssKiB = ru.Maxrss
	}
	if hwm := vmHWM(out.String()); hwm > 0 {
		r.rssKiB = hwm
	}
	return r
}

// vmHWM finds the "VmHWM:  123 kB" line a child printed, 0 if none.
func vmHWM(out string) int64 {
	for line := range strings.Lines(out) {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

// median takes each column's median separately.
func median(rs []cost) cost {
	col := func(f func(cost) int64) int64 {
		v := make([]int64, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	return cost{
		wall:   time.Duration(col(func(r cost) int64 { return int64(r.wall) })),
		cpu:    time.Duration(col(func(r cost) int64 { return int64(r.cpu) })),
		rssKiB: col(func(r cost) int64 { return r.rssKiB }),
	}
}

// loadAverage is /proc/loadavg's one-minute figure and the CPU count.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if err != nil || len(f) == 0 {
		return "unknown"
	}
	return fmt.Sprintf("%s on %d CPUs", f[0], runtime.NumCPU())
}
