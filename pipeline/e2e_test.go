package pipeline

// Real end-to-end runs: the vexpress kernel (built through kbuild, cached
// in ~/.cache/kdumpkit), the u-root initramfs, QEMU, the capture, the
// analyzer. Skipped under -short; each warm run takes about 30 s.

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kdumpkit/kdumpkit/analyze/dump"
	"github.com/kdumpkit/kdumpkit/analyze/vmcoreinfo"
	"github.com/kdumpkit/kdumpkit/boards"
	"github.com/kdumpkit/kdumpkit/capture"
	"github.com/kdumpkit/kdumpkit/hostcheck"
	"github.com/kdumpkit/kdumpkit/kbuild"
	"github.com/kdumpkit/kdumpkit/kernelsrc"
	"github.com/kdumpkit/kdumpkit/protocol"
	"github.com/kdumpkit/kdumpkit/qemu"
	"github.com/kdumpkit/kdumpkit/rootfs"
	"github.com/kdumpkit/kdumpkit/toolchain"
)

func cacheDir() string {
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "kdumpkit")
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "kdumpkit")
}

// prepare builds (or finds cached) everything a run of b needs, through
// the same packages as the mage targets.
func prepare(t testing.TB, b *boards.Board) *Kdump {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: builds a kernel and boots QEMU")
	}
	if miss := hostcheck.Missing(hostcheck.ForArch(b.QEMU.Binary), os.Getenv("PATH")); len(miss) > 0 {
		t.Skipf("host lacks %v: `go run mage.go test` installs them", miss)
	}
	ctx := context.Background()
	var log bytes.Buffer
	tc, err := toolchain.Resolve(ctx, b, cacheDir(), &log)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	tree, err := kernelsrc.Resolve(ctx, b, cacheDir(), &log)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	out := t.TempDir()
	a, err := (&kbuild.Build{Board: b, Tree: tree, Toolchain: tc, CacheDir: cacheDir(), OutDir: out, Log: &log}).Run(ctx)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	initrd, err := rootfs.ForBoard(ctx, b, a.Image, filepath.Join(cacheDir(), "rootfs", b.Name), &log)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	analyzer := filepath.Join(t.TempDir(), "kdumpkit")
	_, self, _, _ := runtime.Caller(0)
	build := exec.Command("go", "build", "-o", analyzer, "./cmd/kdumpkit")
	build.Dir = filepath.Dir(filepath.Dir(self))
	if msg, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the analyzer: %v\n%s", err, msg)
	}
	return &Kdump{Board: b, Kernel: a.Image, DTB: a.DTB, Vmlinux: a.Vmlinux, Initrd: initrd, Analyzer: analyzer,
		Crash: "sysrq", DumpsDir: filepath.Join(out, "dumps"), KernelSource: tree.Source, Log: &testLog{t}}
}

type testLog struct{ t testing.TB }

func (l *testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func vexpress(t testing.TB) *boards.Board {
	b, err := boards.Shipped("vexpress")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestKdumpEndToEnd(t *testing.T) {
	k := prepare(t, vexpress(t))
	for _, c := range []struct{ crash, targets string }{
		{"sysrq", ""}, {"EXCEPTION", ""}, {"BUG", ""},
		{"sysrq", "disk"}, // the raw-disk target, header and all
	} {
		t.Run(c.crash+"/"+c.targets, func(t *testing.T) {
			k.Crash, k.Targets, k.Log = c.crash, c.targets, &testLog{t}
			res, err := k.Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if res.Agreed < 7 {
				t.Errorf("only %d facts checked", res.Agreed)
			}
			checkCoverage(t, res.Dir, k.Board)
			m, err := capture.ReadManifest(res.Dir)
			if err != nil || c.targets != "" && !strings.HasPrefix(m.Target, c.targets) {
				t.Errorf("saved on %+v, want %s: %v", m, c.targets, err)
			} else if m.KernelSource != k.KernelSource || !strings.HasPrefix(m.KernelSource, "debian package linux-source-6.1 ") {
				t.Errorf("manifest's kernel source %q, want %q", m.KernelSource, k.KernelSource)
			}
		})
	}
}

// TestKdumpArm64EndToEnd: the arm64 board (QEMU virt, SMP 2, Linux 6.12,
// KASLR) through the same stages and the same facts as vexpress, the
// KASLR offset among them, for a sysrq crash, an oops and a BUG.
func TestKdumpArm64EndToEnd(t *testing.T) {
	b, err := boards.Shipped("arm64")
	if err != nil {
		t.Fatal(err)
	}
	k := prepare(t, b)
	// sysrq saves the ELF vmcore (its PT_LOADs are checked below); the
	// oops and the BUG the filtered kdump-compressed file, 60× smaller,
	// which spares the suite two 775 MiB copies over 9p.
	for _, c := range []struct{ crash, format string }{{"sysrq", "elf"}, {"EXCEPTION", "kdump"}, {"BUG", "kdump"}} {
		crash := c.crash
		t.Run(crash, func(t *testing.T) {
			k.Crash, k.Format, k.Log = crash, c.format, &testLog{t}
			res, err := k.Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if res.Agreed < 8 {
				t.Errorf("only %d facts checked", res.Agreed)
			}
			// KASLR on: both boots randomized, each afresh (the chance
			// that two 2 MiB-granular offsets coincide is negligible).
			if len(res.KASLR) != 2 || res.KASLR[0] == 0 || res.KASLR[1] == 0 || res.KASLR[0] == res.KASLR[1] {
				t.Errorf("KASLR offsets (first, capture kernel) = %#x: want two different non-zero ones", res.KASLR)
			}
			if c.format == "elf" {
				checkCoverage(t, res.Dir, k.Board)
			}
		})
	}
}

// TestKdumpArm64KexecLoad: the arm64 board with the crash kernel loaded
// by kexec_load (kdumpkit.kexec=load), so that the ELF core header, the
// device tree and the purgatory that enters the capture kernel are
// kdumpkit's rather than the kernel's; the same stages and facts as with
// kexec_file_load, the capture kernel randomized by the kaslr-seed we
// pass, and the header's values what the kernel itself would write.
func TestKdumpArm64KexecLoad(t *testing.T) {
	b, err := boards.Shipped("arm64")
	if err != nil {
		t.Fatal(err)
	}
	k := prepare(t, b)
	k.Kexec = protocol.KexecLoad
	res, err := k.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Agreed < 8 {
		t.Errorf("only %d facts checked", res.Agreed)
	}
	if len(res.KASLR) != 2 || res.KASLR[0] == 0 || res.KASLR[1] == 0 || res.KASLR[0] == res.KASLR[1] {
		t.Errorf("KASLR offsets (first, capture kernel) = %#x: want two different non-zero ones", res.KASLR)
	}
	console, err := os.ReadFile(filepath.Join(res.Dir, "console.log"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(console, []byte(protocol.MarkerReady+" crash kernel loaded with kexec_load (kdumpkit.kexec=load)")) {
		t.Error("the READY line does not say kexec_load loaded the crash kernel")
	}
	checkCoverage(t, res.Dir, k.Board)
	checkArm64Header(t, res.Dir, ParseTruth(strings.Split(string(console), "\n")).Text)
}

// checkArm64Header: the vmcore's PT_LOADs, from the header kdumpkit's
// kexec_load built, hold what the kernel's crash_prepare_elf64_headers
// writes (kernel/crash_core.c, 6.12): one for the image at _text, where
// the first kernel's console said it ran, over _text − kimage_voffset;
// every other one in the linear map, (p_paddr − PHYS_OFFSET) | PAGE_OFFSET
// by the dump's own VMCOREINFO.
func checkArm64Header(t *testing.T, dir string, text uint64) {
	t.Helper()
	d, err := dump.Open(filepath.Join(dir, capture.VmcoreName))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	raw, ok := d.VMCOREINFO()
	if !ok {
		t.Fatal("no VMCOREINFO in the vmcore")
	}
	info, err := vmcoreinfo.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	voff, err1 := info.KimageVoffset()
	phys, err2 := info.PhysOffset()
	vaBits, err3 := info.VABits()
	if err := errors.Join(err1, err2, err3); err != nil || text == 0 {
		t.Fatalf("VMCOREINFO: %v; console _text %#x", err, text)
	}
	images := 0
	for _, l := range d.Loads {
		if l.Vaddr == text {
			images++
			if l.Paddr != text-voff || l.Memsz == 0 || l.Memsz > 256<<20 {
				t.Errorf("image PT_LOAD %#x+%#x at %#x, want physical %#x (kimage_voffset %#x)", l.Paddr, l.Memsz, l.Vaddr, text-voff, voff)
			}
			continue
		}
		if want := (l.Paddr - phys) | -(uint64(1) << vaBits); l.Vaddr != want {
			t.Errorf("RAM PT_LOAD %#x+%#x at %#x, want the linear map's %#x", l.Paddr, l.Memsz, l.Vaddr, want)
		}
	}
	if images != 1 {
		t.Errorf("%d PT_LOADs at _text %#x, want 1", images, text)
	}
}

// checkCoverage: the vmcore's PT_LOADs, made from our kexec's ELF core
// header (ARM32) or the kernel's (arm64), cover all System RAM but the
// crash region, as the first kernel's reservation line states it: ARM32's
// "Reserving NMB of memory at MMB for crashkernel (System RAM: SMB)",
// arm64's "crashkernel reserved: 0xSTART - 0xEND (N MB)" (RAM from the
// board). arm64's extra PT_LOAD for the kernel image lies inside a RAM
// one and is counted once.
func checkCoverage(t *testing.T, dir string, b *boards.Board) {
	t.Helper()
	console, err := os.ReadFile(filepath.Join(dir, "console.log"))
	if err != nil {
		t.Fatal(err)
	}
	var size, at, ram uint64
	mb := func(b []byte) uint64 { n, _ := strconv.ParseUint(string(b), 10, 64); return n << 20 }
	hex := func(b []byte) uint64 { n, _ := strconv.ParseUint(string(b), 0, 64); return n }
	if m := regexp.MustCompile(`Reserving (\d+)MB of memory at (\d+)MB for crashkernel \(System RAM: (\d+)MB\)`).FindSubmatch(console); m != nil {
		size, at, ram = mb(m[1]), mb(m[2]), mb(m[3])
	} else if m := regexp.MustCompile(`crashkernel reserved: (0x[0-9a-f]+) - (0x[0-9a-f]+) \(\d+ MB\)`).FindSubmatch(console); m != nil {
		at, size, ram = hex(m[1]), hex(m[2])-hex(m[1]), uint64(b.QEMU.Memory)
	} else {
		t.Fatal("no crashkernel reservation line in the console")
	}
	d, err := dump.Open(filepath.Join(dir, capture.VmcoreName))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	base := d.Loads[0].Paddr // vexpress RAM starts at 0x60000000, virt's at 0x40000000
	var total, end uint64
	for _, l := range d.Loads {
		if l.Paddr < at+size && l.Paddr+l.Memsz > at {
			t.Errorf("PT_LOAD %#x+%#x overlaps the crash region at %#x", l.Paddr, l.Memsz, at)
		}
		if l.Paddr < base || l.Paddr+l.Memsz > base+ram {
			t.Errorf("PT_LOAD %#x+%#x outside RAM %#x+%#x", l.Paddr, l.Memsz, base, ram)
		}
		if e := l.Paddr + l.Memsz; e > end {
			total += e - max(l.Paddr, end)
			end = e
		}
	}
	if total != ram-size {
		t.Errorf("PT_LOADs cover %d MiB, want RAM %d MiB minus the %d MiB crash region", total>>20, ram>>20, size>>20)
	}
}

// stageError runs k and wants it to stop at stage with cause, in time.
func stageError(t *testing.T, k *Kdump, stage, cause string, within time.Duration) {
	t.Helper()
	start := time.Now()
	_, err := k.Run(context.Background())
	var se *qemu.StageError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want a stage error", err)
	}
	if se.Stage != stage || !strings.Contains(se.Error(), cause) {
		t.Errorf("stopped at %q, want %q with %q:\n%v", se.Stage, stage, cause, se)
	}
	if d := time.Since(start); d > within {
		t.Errorf("took %s, want under %s", d, within)
	}
}

// TestCrashkernelTooLarge: 256 MiB is too little RAM for a 64 MiB crash
// region aligned to 128 MiB.
func TestCrashkernelTooLarge(t *testing.T) {
	b := vexpress(t)
	k := prepare(t, b)
	small := *b
	small.QEMU.Memory = 256 << 20
	k.Board = &small
	stageError(t, k, "crash kernel loaded", "crashkernel= is too big", small.Kdump.Timeouts.Boot.D()+small.Kdump.Timeouts.Load.D())
}

// TestCaptureNeverComes: the vmcore cannot be saved within the (too
// short) capture timeout.
func TestCaptureNeverComes(t *testing.T) {
	b := vexpress(t)
	k := prepare(t, b)
	short := *b
	short.Kdump.Timeouts.Capture = boards.Duration(3 * time.Second)
	k.Board = &short
	stageError(t, k, "vmcore saved", "timed out after 3s", 3*time.Minute)
}

// TestKernelWithoutVmcore: the capture kernel of a kernel built without
// CONFIG_PROC_VMCORE boots and says it has nothing to save.
func TestKernelWithoutVmcore(t *testing.T) {
	b, err := boards.Load("testdata/vexpress-novmcore.toml")
	if err != nil {
		t.Fatal(err)
	}
	k := prepare(t, b)
	stageError(t, k, "capture kernel up", "CONFIG_PROC_VMCORE", 4*time.Minute)
}

// BenchmarkKdumpWarm times a whole kdump:test with nothing to rebuild,
// beside the cold run `go run mage.go board:vexpress kdump:test` recorded
// when it last had to build the kernel (see RecordCold).
func BenchmarkKdumpWarm(b *testing.B) {
	for _, name := range []string{"vexpress", "arm64"} {
		b.Run(name, func(b *testing.B) {
			board, err := boards.Shipped(name)
			if err != nil {
				b.Fatal(err)
			}
			for i := 0; i < b.N; i++ {
				start := time.Now()
				k := prepare(b, board)
				k.Log = io.Discard
				if _, err := k.Run(context.Background()); err != nil {
					b.Fatal(err)
				}
				warm := time.Since(start)
				b.ReportMetric(warm.Seconds(), "s/warm-run")
				cold, when, err := ReadCold(cacheDir(), name)
				if err != nil {
					b.Logf("%s: kdump:test warm %.1f s (goal ≤ 45 s on 2 cores); no cold run recorded: %v", name, warm.Seconds(), err)
					continue
				}
				b.ReportMetric(cold.Seconds(), "s/cold-run")
				b.Logf("%s: kdump:test warm %.1f s (goal ≤ 45 s on 2 cores) beside cold %.1f s (recorded %s by `go run mage.go board:%s kdump:test`)",
					name, warm.Seconds(), cold.Seconds(), when.Format(time.RFC3339), name)
			}
		})
	}
}

// TestBootToShell boots the board as qemu:run does and waits for the
// crash kernel to load and u-root's shell (gosh) to show its prompt.
func TestBootToShell(t *testing.T) {
	k := prepare(t, vexpress(t))
	pr, pw := io.Pipe()
	defer pw.Close()
	run := &qemu.Run{Board: k.Board, Kernel: k.Kernel, DTB: k.DTB, Initrd: k.Initrd, Stdin: pr}
	p, err := run.Start(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Kill()
	w := &qemu.Watcher{Stages: []qemu.Stage{
		{Name: "crash kernel loaded", Marker: regexp.MustCompile(protocol.MarkerReady), Fail: regexp.MustCompile(protocol.MarkerLoadFailed), Timeout: 2 * time.Minute},
		// gosh's line editor prints its key help under the prompt.
		{Name: "shell prompt", Marker: regexp.MustCompile(`C-d erase/stop`), Fail: regexp.MustCompile(`Kernel panic`), Timeout: time.Minute},
	}}
	if err := w.Watch(p.Output); err != nil {
		t.Fatal(err)
	}
}
