// Package pipeline runs a kdump test end to end on a board under QEMU:
// boot with the kdumpkit initramfs, watch the crash kernel load, the
// crash, the capture kernel and the save (package qemu), bring the dump
// home verified against its manifest (package capture), and check the
// analyzer's answers against the ground truth the console printed.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/kdumpkit/kdumpkit/boards"
	"github.com/kdumpkit/kdumpkit/capture"
	"github.com/kdumpkit/kdumpkit/protocol"
	"github.com/kdumpkit/kdumpkit/qemu"
)

// Errors of a run.
var (
	// ErrDisagree means the analyzer and the console disagree.
	ErrDisagree = errors.New("the analyzer disagrees with the console")
	// ErrUnverified means files of the dump reached the host but the run
	// failed or could not verify them: they are kept in the dump
	// directory beside an UnverifiedName file that says why.
	ErrUnverified = errors.New("dump kept unverified")
)

// UnverifiedName is the marker a failed run leaves in a dump directory
// that holds what reached the host: plain text, one reason per line. The
// analyzer prints it as a warning whenever it opens a vmcore beside it
// (it spells the name itself; keep the two in step).
const UnverifiedName = "UNVERIFIED"

// Kdump is one kdump test run.
type Kdump struct {
	Board       *boards.Board
	Kernel, DTB string // boot image and device tree
	Vmlinux     string
	Initrd      string // the main initramfs (rootfs)
	Analyzer    string // the kdumpkit binary
	Crash       string // "sysrq" or an LKDTM type
	Targets     string // overrides the board's dump targets (kdumpkit.targets=); "" keeps them
	Kexec       string // overrides the board's kexec method (kdumpkit.kexec=auto|file|load); "" keeps it
	Format      string // overrides the dump format (kdumpkit.format=elf|kdump); "" keeps the board's (elf)
	DumpsDir    string // build/<board>/dumps
	// KernelSource is where the kernel was built from (kernelsrc's
	// Tree.Source, "dirty" when the tree was), recorded in the dump's
	// manifest.json; "" records nothing.
	KernelSource string
	Verbose      bool // stream the console
	Log          io.Writer
}

// Result is a finished run.
type Result struct {
	Dir      string // build/<board>/dumps/<time>
	Stages   []qemu.Reached
	Agreed   int
	Duration time.Duration
	// KASLR is each boot's kernel offset, first kernel then capture
	// kernel, from the console's _text lines; nil when they were not
	// printed or the vmlinux has no _text.
	KASLR []uint64
}

// Run runs the test; its error names the failing stage and why. Whatever
// reached the host (the 9p share's files, the raw disk's) is moved into
// Result.Dir whatever happens after; when the run fails with files there,
// the error wraps ErrUnverified and names the directory.
func (k *Kdump) Run(ctx context.Context) (*Result, error) {
	start := time.Now()
	dir, err := newDumpDir(k.DumpsDir, start)
	if err != nil {
		return nil, err
	}
	res := &Result{Dir: dir}
	sc, err := newScratch(res.Dir, int64(k.Board.QEMU.Memory)+64<<20)
	if err != nil {
		return nil, err
	}
	boot := k.boot
	if k.Board.NetBoot() {
		boot = k.bootNet
	}
	truth, err := boot(ctx, res, sc)
	h := bringHome(res.Dir, sc)
	if h.any() {
		h.problems = append(h.problems, k.verify(res.Dir, truth)...)
		if k.KernelSource != "" {
			if err := capture.RecordKernelSource(res.Dir, k.KernelSource); err != nil && !errors.Is(err, os.ErrNotExist) {
				h.problem("recording the kernel source in %s: %v", capture.ManifestName, err)
			}
		}
	} else if err == nil {
		h.problem("nothing reached the host: the 9p share is empty and the raw disk was never written")
	}
	if err == nil && len(h.problems) > 0 {
		err = fmt.Errorf("stage \"retrieve\": %s", strings.Join(h.problems, "; "))
	}
	if err == nil {
		err = k.check(ctx, res, truth)
	}
	res.Duration = time.Since(start)
	if err != nil {
		return res, keep(res.Dir, h, err)
	}
	return res, nil
}

// boot runs QEMU through every console stage of the test and waits for
// it to power off; QEMU has ended when it returns.
func (k *Kdump) boot(ctx context.Context, res *Result, sc scratch) (*Truth, error) {
	logPath := filepath.Join(res.Dir, consoleName)
	console, err := os.Create(logPath)
	if err != nil {
		return ParseTruth(nil), err
	}
	defer console.Close()
	var out io.Writer = console
	if k.Verbose {
		out = io.MultiWriter(console, k.Log)
	}
	run := &qemu.Run{Board: k.Board, Kernel: k.Kernel, DTB: k.DTB, Initrd: k.Initrd, Share: sc.share, Disk: sc.disk, Console: out,
		Append: "panic=-1 " + protocol.TestParams(k.Crash, k.Targets, k.Kexec, k.Format)}
	fmt.Fprintf(k.Log, "kdump: %s\n", run.String())
	p, err := run.Start(ctx)
	if err != nil {
		return ParseTruth(nil), err
	}
	w := &qemu.Watcher{Stages: k.stages(), LogPath: logPath, Reached: func(r qemu.Reached) {
		res.Stages = append(res.Stages, r)
		nl := ""
		if k.Verbose {
			nl = "\n" // the streamed console may be mid-line
		}
		fmt.Fprintf(k.Log, "%skdump: %-22s %6.1fs  %s\n", nl, r.Stage, r.Duration.Seconds(), r.Line)
	}}
	if err := w.Watch(p.Output); err != nil {
		// The board may still be writing to the share or the disk: end
		// it before anything is moved. The watcher stopped reading, so
		// drain the console or QEMU's output copy never finishes.
		go io.Copy(io.Discard, p.Output)
		p.Kill()
		p.Wait(time.Minute)
		return ParseTruth(w.Lines()), err
	}
	if err := p.Wait(k.Board.Kdump.Timeouts.Poweroff.D()); err != nil {
		return ParseTruth(w.Lines()), fmt.Errorf("stage \"powered off\": %w (full console log: %s)", err, logPath)
	}
	return ParseTruth(w.Lines()), nil
}

// check runs the analyzer on the dump and compares it with the console.
func (k *Kdump) check(ctx context.Context, res *Result, truth *Truth) error {
	a, err := Analyze(ctx, k.Analyzer, k.Vmlinux, filepath.Join(res.Dir, capture.VmcoreName))
	if err != nil {
		return fmt.Errorf("stage \"analyze\": %w", err)
	}
	linkText, err := symbolAddr(k.Vmlinux, "_text")
	if err != nil {
		fmt.Fprintf(k.Log, "kdump: no KASLR check: %v\n", err)
	}
	if linkText != 0 && truth.Text != 0 {
		res.KASLR = []uint64{truth.Text - linkText}
		if truth.CaptureText != 0 {
			res.KASLR = append(res.KASLR, truth.CaptureText-linkText)
		}
	}
	agreed, ds := Compare(truth, a, linkText)
	res.Agreed = agreed
	if len(ds) > 0 {
		msg := ""
		for _, d := range ds {
			msg += "\n    " + d.String()
		}
		return fmt.Errorf("stage \"compare\": %w on %d of %d facts:%s", ErrDisagree, len(ds), len(ds)+agreed, msg)
	}
	return nil
}

func re(s string) *regexp.Regexp { return regexp.MustCompile(regexp.QuoteMeta(s)) }

// stages are the console milestones of a test run, with the board's
// timeouts.
func (k *Kdump) stages() []qemu.Stage {
	t := k.Board.Kdump.Timeouts
	failCapture := re(protocol.MarkerCaptureFailed)
	// The kernel's own "reboot: Power down" says the same as our marker,
	// should the marker be lost in the console tty at power-off.
	poweroff := regexp.MustCompile(regexp.QuoteMeta(protocol.MarkerPowerOff) + `|reboot: Power down`)
	return []qemu.Stage{
		{Name: "booted", Marker: regexp.MustCompile(`Run /init as init process`), Timeout: t.Boot.D()},
		{Name: "crash kernel loaded", Marker: re(protocol.MarkerReady), Fail: re(protocol.MarkerLoadFailed), Timeout: t.Load.D()},
		{Name: "ground truth printed", Marker: re(protocol.MarkerTruthEnd), Timeout: t.Load.D()},
		{Name: "panic triggered", Marker: regexp.MustCompile(`Kernel panic - not syncing|Internal error: |kernel BUG at |Unable to handle kernel `), Timeout: t.Panic.D()},
		{Name: "capture kernel up", Marker: re(protocol.MarkerCaptureUp), Fail: failCapture, Timeout: t.Panic.D()},
		{Name: "vmcore saved", Marker: re(protocol.MarkerSaved), Fail: failCapture, Timeout: t.Capture.D()},
		{Name: "powering off", Marker: poweroff, Timeout: t.Poweroff.D()},
	}
}
