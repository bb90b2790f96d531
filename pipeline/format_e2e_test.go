package pipeline

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kdumpkit/kdumpkit/analyze/dump"
	"github.com/kdumpkit/kdumpkit/capture"
	"github.com/kdumpkit/kdumpkit/protocol"
	"github.com/kdumpkit/kdumpkit/qemu"
)

// TestKdumpCompressedEndToEnd: vexpress crashed with sysrq, the capture
// kernel writing the level-31 zstd kdump-compressed dump over 9p
// (kdumpkit.format=kdump), then through the raw disk as a flattened
// stream: every stage, the same facts against the console as the ELF
// path, RAM coverage from the 1st bitmap, and a file at least 10× smaller
// than RAM.
func TestKdumpCompressedEndToEnd(t *testing.T) {
	k := prepare(t, vexpress(t))
	k.Format = protocol.FormatKdump
	for _, c := range []struct{ targets, format string }{{"", capture.FormatKdump}, {"disk", capture.FormatKdumpFlat}} {
		t.Run("targets="+c.targets, func(t *testing.T) {
			k.Targets, k.Log = c.targets, &testLog{t}
			res, err := k.Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if res.Agreed < 8 {
				t.Errorf("only %d facts checked", res.Agreed)
			}
			checkCoverage(t, res.Dir, k.Board)
			m, err := capture.ReadManifest(res.Dir)
			if err != nil {
				t.Fatal(err)
			}
			f, _ := m.File(capture.VmcoreName)
			if m.Format != c.format || f.Size*10 > int64(k.Board.QEMU.Memory) {
				t.Errorf("manifest %+v: want %s, 10x smaller than %d bytes of RAM", m, c.format, k.Board.QEMU.Memory)
			}
			d, err := dump.Open(filepath.Join(res.Dir, capture.VmcoreName))
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			if kd := d.Kdump(); kd == nil || kd.Sub.DumpLevel != 31 || kd.Incomplete() {
				t.Errorf("the vmcore is not a complete level-31 kdump-compressed dump")
			}
			t.Logf("vmcore %d bytes; vmcore saved in %s", f.Size, stageTime(res.Stages, "vmcore saved"))
			console, _ := os.ReadFile(filepath.Join(res.Dir, "console.log"))
			for _, l := range strings.Split(string(console), "\n") {
				if strings.HasPrefix(l, "capture: ") {
					t.Log(strings.TrimSpace(l))
				}
			}
		})
	}
}

func stageTime(rs []qemu.Reached, stage string) time.Duration {
	for _, r := range rs {
		if r.Stage == stage {
			return r.Duration
		}
	}
	return 0
}

// BenchmarkKdumpFormats: one vexpress sysrq run per vmcore format, the
// ELF copy beside makedumpfile's dump levels 0, 1 and 31 (zstd), over
// 9p: the vmcore's size against /proc/vmcore's, the capture's wall time
// in the guest (the "vmcore saved" stage) and the whole run's.
func BenchmarkKdumpFormats(b *testing.B) {
	k := prepare(b, vexpress(b))
	k.Log = io.Discard
	for _, format := range []string{protocol.FormatELF, "kdump:0", "kdump:1", protocol.FormatKdump} {
		b.Run(format, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				k.Format = format
				start := time.Now()
				res, err := k.Run(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				m, err := capture.ReadManifest(res.Dir)
				if err != nil {
					b.Fatal(err)
				}
				f, _ := m.File(capture.VmcoreName)
				saved := stageTime(res.Stages, "vmcore saved")
				b.ReportMetric(float64(f.Size)/1e6, "MB-vmcore")
				b.ReportMetric(saved.Seconds(), "s/capture")
				b.ReportMetric(time.Since(start).Seconds(), "s/run")
				b.Logf("%s: vmcore %.1f MB (%s %s), capture in the guest %.1f s, whole run %.1f s",
					format, float64(f.Size)/1e6, m.Format, m.Detail, saved.Seconds(), time.Since(start).Seconds())
			}
		})
	}
}
