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
	"time"

	"github.com/kdumpkit/kdumpkit/boards"
	"github.com/kdumpkit/kdumpkit/capture"
	"github.com/kdumpkit/kdumpkit/qemu"
)

// ErrDisagree means the analyzer and the console disagree.
var ErrDisagree = errors.New("the analyzer disagrees with the console")

// Kdump is one kdump test run.
type Kdump struct {
	Board       *boards.Board
	Kernel, DTB string // boot image and device tree
	Vmlinux     string
	Initrd      string // the main initramfs (rootfs)
	Analyzer    string // the kdumpkit binary
	Crash       string // "sysrq" or an LKDTM type
	Targets     string // overrides the board's dump targets (kdumpkit.targets=); "" keeps them
	DumpsDir    string // build/<board>/dumps
	Verbose     bool   // stream the console
	Log         io.Writer
}

// Result is a finished run.
type Result struct {
	Dir      string // build/<board>/dumps/<time>
	Stages   []qemu.Reached
	Agreed   int
	Duration time.Duration
}

// Run runs the test; its error names the failing stage and why.
func (k *Kdump) Run(ctx context.Context) (*Result, error) {
	start := time.Now()
	res := &Result{Dir: filepath.Join(k.DumpsDir, start.UTC().Format("20060102-150405"))}
	share, disk := filepath.Join(res.Dir, ".share"), filepath.Join(res.Dir, ".disk.img")
	if err := os.MkdirAll(share, 0o755); err != nil {
		return nil, err
	}
	if err := sparseFile(disk, int64(k.Board.QEMU.Memory)+64<<20); err != nil {
		return nil, err
	}
	defer os.Remove(disk)
	defer os.RemoveAll(share)
	logPath := filepath.Join(res.Dir, "console.log")
	console, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer console.Close()
	var out io.Writer = console
	if k.Verbose {
		out = io.MultiWriter(console, k.Log)
	}
	run := &qemu.Run{Board: k.Board, Kernel: k.Kernel, DTB: k.DTB, Initrd: k.Initrd, Share: share, Disk: disk, Console: out,
		Append: fmt.Sprintf("panic=-1 kdumpkit.mode=test kdumpkit.crash=%s", k.Crash)}
	if k.Targets != "" {
		run.Append += " kdumpkit.targets=" + k.Targets
	}
	fmt.Fprintf(k.Log, "kdump: %s\n", run.String())
	p, err := run.Start(ctx)
	if err != nil {
		return nil, err
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
		p.Kill()
		return res, err
	}
	if err := p.Wait(k.Board.Kdump.Timeouts.Poweroff.D()); err != nil {
		return res, fmt.Errorf("stage \"powered off\": %w (full console log: %s)", err, logPath)
	}
	truth := ParseTruth(w.Lines())
	if err := k.retrieve(res.Dir, share, disk, truth); err != nil {
		return res, fmt.Errorf("stage \"retrieve\": %w", err)
	}
	a, err := Analyze(ctx, k.Analyzer, k.Vmlinux, filepath.Join(res.Dir, capture.VmcoreName))
	if err != nil {
		return res, fmt.Errorf("stage \"analyze\": %w", err)
	}
	agreed, ds := Compare(truth, a)
	res.Agreed, res.Duration = agreed, time.Since(start)
	if len(ds) > 0 {
		msg := ""
		for _, d := range ds {
			msg += "\n    " + d.String()
		}
		return res, fmt.Errorf("stage \"compare\": %w on %d of %d facts:%s", ErrDisagree, len(ds), len(ds)+agreed, msg)
	}
	return res, nil
}

func re(s string) *regexp.Regexp { return regexp.MustCompile(regexp.QuoteMeta(s)) }

// stages are the console milestones of a test run, with the board's
// timeouts.
func (k *Kdump) stages() []qemu.Stage {
	t := k.Board.Kdump.Timeouts
	failCapture := re(capture.MarkerCaptureFailed)
	return []qemu.Stage{
		{Name: "booted", Marker: regexp.MustCompile(`Run /init as init process`), Timeout: t.Boot.D()},
		{Name: "crash kernel loaded", Marker: re(capture.MarkerReady), Fail: re(capture.MarkerLoadFailed), Timeout: t.Load.D()},
		{Name: "ground truth printed", Marker: re(capture.MarkerTruthEnd), Timeout: t.Load.D()},
		{Name: "panic triggered", Marker: regexp.MustCompile(`Kernel panic - not syncing|Internal error: |kernel BUG at |Unable to handle kernel `), Timeout: t.Panic.D()},
		{Name: "capture kernel up", Marker: re(capture.MarkerCaptureUp), Fail: failCapture, Timeout: t.Panic.D()},
		{Name: "vmcore saved", Marker: re(capture.MarkerSaved), Fail: failCapture, Timeout: t.Capture.D()},
		{Name: "powering off", Marker: re(capture.MarkerPowerOff), Timeout: t.Poweroff.D()},
	}
}

// retrieve moves the saved dump into dir, from the 9p share or the raw
// disk, verified against its manifest and the sha256 the target printed.
func (k *Kdump) retrieve(dir, share, disk string, t *Truth) error {
	var m *capture.Manifest
	var err error
	if _, serr := os.Stat(filepath.Join(share, capture.ManifestName)); serr == nil {
		if m, err = capture.ReadManifest(share); err != nil {
			return err
		}
		for _, f := range m.Files {
			if err := os.Rename(filepath.Join(share, f.Name), filepath.Join(dir, f.Name)); err != nil {
				return err
			}
		}
		if err := os.Rename(filepath.Join(share, capture.ManifestName), filepath.Join(dir, capture.ManifestName)); err != nil {
			return err
		}
	} else {
		if _, err := capture.ExtractDisk(disk, dir); err != nil {
			return err
		}
		if m, err = capture.ReadManifest(dir); err != nil {
			return err
		}
	}
	v, _ := m.File(capture.VmcoreName)
	if v.SHA256 != t.SavedSHA256 || v.Size != t.SavedSize {
		return fmt.Errorf("the vmcore home is %d bytes sha256 %s; the target saved %d bytes sha256 %s", v.Size, v.SHA256, t.SavedSize, t.SavedSHA256)
	}
	fmt.Fprintf(k.Log, "kdump: vmcore %d MiB sha256 %s… verified, from target %s, in %s\n", v.Size>>20, v.SHA256[:16], m.Target, dir)
	return nil
}

func sparseFile(p string, size int64) error {
	f, err := os.Create(p)
	if err != nil {
		return err
	}
	if err := f.Truncate(size); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
