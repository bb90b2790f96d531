package pipeline

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kdumpkit/kdumpkit/boards"
	"github.com/kdumpkit/kdumpkit/capture"
	"github.com/kdumpkit/kdumpkit/protocol"
)

// fakeEnv, when set, makes this test binary stand in for
// qemu-system-arm (and, called as "analyze", for the analyzer): the
// fault tests point a board's [qemu] binary at it. Its value is the fault.
const fakeEnv = "KDUMPKIT_FAKE_QEMU"

// Faults the fake QEMU injects.
const (
	faultNone     = "none"     // a clean run; the fake analyzer agrees
	faultHang     = "hang"     // never exits after POWER OFF
	faultSlowOff  = "slowoff"  // POWER OFF comes after the poweroff timeout
	faultMismatch = "mismatch" // the console's sha256 is not the saved vmcore's
	faultCorrupt  = "corrupt"  // a vmcore byte changes after the manifest was written
	faultCut      = "cut"      // power lost on the raw disk before the header was written
	faultNothing  = "nothing"  // says VMCORE SAVED but wrote nothing
)

func TestMain(m *testing.M) {
	if fault := os.Getenv(fakeEnv); fault != "" {
		if len(os.Args) > 1 && os.Args[1] == "analyze" {
			os.Exit(fakeAnalyzer())
		}
		os.Exit(fakeQEMU(fault, os.Args[1:]))
	}
	os.Exit(m.Run())
}

// fakeVmcore is the synthetic dump the fake board saves.
func fakeVmcore() []byte {
	return bytes.Repeat([]byte("fake vmcore page, 32 bytes long\n"), 3000)
}

const fakeDmesg = "[    1.897436] sysrq: Trigger a crash\n"

// fakeQEMU prints the console of a test run (the vexpressConsole constant of
// pipeline_test.go), saves the dump with the real capture code to the 9p
// share or raw disk named on its command line, and injects fault.
func fakeQEMU(fault string, args []string) int {
	share, disk, targets := fakeArgs(args)
	lines := strings.Split(strings.TrimSpace(vexpressConsole), "\n")
	for _, l := range lines[:len(lines)-1] { // all but the VMCORE SAVED line
		fmt.Println(l)
	}
	vmcore := fakeVmcore()
	src := capture.Source{Vmcore: bytes.NewReader(vmcore), VmcoreSize: int64(len(vmcore)), Dmesg: []byte(fakeDmesg), Release: "6.1.192"}
	var t capture.Target = &capture.DirTarget{Label: "9p:dump", Dir: share}
	if targets == "disk" {
		t = &capture.DiskTarget{Label: "disk:/dev/vda", Path: disk}
	}
	if fault == faultNothing {
		fmt.Printf("%s target=9p:dump size=1 sha256=%x\n%s\n", protocol.MarkerSaved, sha256.Sum256([]byte("x")), protocol.MarkerPowerOff)
		return 0
	}
	if fault == faultCut {
		t.Put(context.Background(), capture.DmesgName, strings.NewReader(fakeDmesg), int64(len(fakeDmesg)))
		t.Put(context.Background(), capture.VmcoreName, bytes.NewReader(vmcore), int64(len(vmcore)))
		return 0 // the console just stops, as when the power goes
	}
	m, err := capture.Save(context.Background(), src, []capture.Target{t}, os.Stdout)
	if err != nil {
		fmt.Printf("%s %v\n", protocol.MarkerCaptureFailed, err)
		return 1
	}
	v, _ := m.File(capture.VmcoreName)
	switch fault {
	case faultMismatch:
		v.SHA256 = fmt.Sprintf("%x", sha256.Sum256([]byte("another dump")))
	case faultCorrupt:
		f, _ := os.OpenFile(filepath.Join(share, capture.VmcoreName), os.O_WRONLY, 0)
		f.WriteAt([]byte("X"), 100)
		f.Close()
	}
	fmt.Printf("%s target=%s size=%d sha256=%s\n", protocol.MarkerSaved, m.Target, v.Size, v.SHA256)
	if fault == faultSlowOff {
		time.Sleep(time.Minute)
	}
	fmt.Println(protocol.MarkerPowerOff)
	if fault == faultHang {
		time.Sleep(time.Hour)
	}
	return 0
}

// fakeArgs finds the 9p share, the raw disk and kdumpkit.targets= in a
// QEMU command line as qemu.Run writes it.
func fakeArgs(args []string) (share, disk, targets string) {
	targets = "9p"
	for i := 0; i+1 < len(args); i++ {
		for _, opt := range strings.Split(args[i+1], ",") {
			switch k, v, _ := strings.Cut(opt, "="); {
			case args[i] == "-fsdev" && k == "path":
				share = v
			case args[i] == "-drive" && k == "file":
				disk = v
			}
		}
		if args[i] == "-append" {
			for _, w := range strings.Fields(args[i+1]) {
				if v, ok := strings.CutPrefix(w, "kdumpkit.targets="); ok {
					targets = v
				}
			}
		}
	}
	return share, disk, targets
}

// fakeAnalyzer prints what the real one would for the fake console: the
// --json output of "sys; bt; ps; log", agreeing with the console.
func fakeAnalyzer() int {
	a := agreeing()
	enc := json.NewEncoder(os.Stdout)
	enc.Encode(map[string]any{"release": a.Release, "panic": a.Panic, "pid": a.PanicPID, "command": a.PanicComm})
	var frames []map[string]string
	for _, f := range a.Frames {
		frames = append(frames, map[string]string{"function": f})
	}
	enc.Encode([]map[string]any{{"pid": a.PanicPID, "frames": frames}})
	var ps, log []map[string]any
	for pid, comm := range a.Tasks {
		ps = append(ps, map[string]any{"pid": pid, "comm": comm})
	}
	for _, l := range a.Log {
		log = append(log, map[string]any{"text": l})
	}
	enc.Encode(ps)
	enc.Encode(log)
	return 0
}

// fakeRun runs the pipeline on the fake QEMU with fault, short timeouts,
// the given targets and analyzer ("" for the fake one).
func fakeRun(t *testing.T, fault, targets, analyzer string) (*Result, error) {
	t.Setenv(fakeEnv, fault)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	sec := func(s float64) boards.Duration { return boards.Duration(s * float64(time.Second)) }
	b := &boards.Board{Name: "fake", Arch: "arm",
		QEMU:   boards.QEMU{Binary: exe, Machine: "vexpress-a9", Memory: 16 << 20, SMP: 1},
		Kernel: boards.Kernel{Cmdline: "console=ttyAMA0"},
		Kdump: boards.Kdump{Timeouts: boards.Timeouts{Boot: sec(20), Load: sec(20), Panic: sec(20), Capture: sec(20),
			Poweroff: sec(1)}}}
	if analyzer == "" {
		analyzer = exe
	}
	k := &Kdump{Board: b, Kernel: "zImage", Vmlinux: "vmlinux", Analyzer: analyzer, Crash: "sysrq", Targets: targets,
		DumpsDir: t.TempDir(), Log: io.Discard}
	return k.Run(context.Background())
}

// wantKept checks that a failed run kept the whole dump, named its
// directory and left an UNVERIFIED file with reason in it.
func wantKept(t *testing.T, res *Result, err error, reason string) {
	t.Helper()
	if res == nil {
		t.Fatalf("no result; err = %v", err)
	}
	want := map[string][]byte{capture.VmcoreName: fakeVmcore(), capture.DmesgName: []byte(fakeDmesg)}
	for name, b := range want {
		if got, _ := os.ReadFile(filepath.Join(res.Dir, name)); !bytes.Equal(got, b) {
			t.Errorf("%s: %d bytes home, want the %d the board saved", name, len(got), len(b))
		}
	}
	if _, err := os.Stat(filepath.Join(res.Dir, capture.ManifestName)); err != nil {
		t.Error(err)
	}
	if c, _ := os.ReadFile(filepath.Join(res.Dir, consoleName)); !bytes.Contains(c, []byte(protocol.MarkerSaved)) {
		t.Errorf("console.log lacks the saved line:\n%s", c)
	}
	marker, rerr := os.ReadFile(filepath.Join(res.Dir, UnverifiedName))
	if rerr != nil || !strings.Contains(string(marker), reason) {
		t.Errorf("%s = %q (%v), want a line with %q", UnverifiedName, marker, rerr, reason)
	}
	if !errors.Is(err, ErrUnverified) || !strings.Contains(fmt.Sprint(err), res.Dir) {
		t.Errorf("err = %v; want ErrUnverified naming the dump directory", err)
	}
}

// TestRunKeepsDumpWhenQEMUNeverExits: a board that prints POWER OFF and
// stays on is killed at the poweroff timeout; its saved dump stays.
func TestRunKeepsDumpWhenQEMUNeverExits(t *testing.T) {
	res, err := fakeRun(t, faultHang, "", "")
	wantKept(t, res, err, `stage "powered off": QEMU did not exit within 1s`)
}

// TestRunKeepsDumpOnSlowPoweroff: POWER OFF comes after its timeout.
func TestRunKeepsDumpOnSlowPoweroff(t *testing.T) {
	res, err := fakeRun(t, faultSlowOff, "", "")
	wantKept(t, res, err, `stage "powering off": timed out after 1s`)
}

// TestRunKeepsDumpOnConsoleMismatch: the vmcore home is not the one the
// console says was saved.
func TestRunKeepsDumpOnConsoleMismatch(t *testing.T) {
	res, err := fakeRun(t, faultMismatch, "", "")
	wantKept(t, res, err, "the board said it saved")
	if _, serr := os.Stat(filepath.Join(res.Dir, ".share")); !errors.Is(serr, os.ErrNotExist) {
		t.Errorf("the share was moved out whole, yet it is still there: %v", serr)
	}
}

// TestRunKeepsDumpOnManifestMismatch: a vmcore changed after its
// manifest was written stays home, marked.
func TestRunKeepsDumpOnManifestMismatch(t *testing.T) {
	res, err := fakeRun(t, faultCorrupt, "", "")
	if !errors.Is(err, ErrUnverified) {
		t.Fatalf("err = %v", err)
	}
	got, _ := os.ReadFile(filepath.Join(res.Dir, capture.VmcoreName))
	if len(got) != len(fakeVmcore()) || got[100] != 'X' {
		t.Errorf("the vmcore home is not the board's (%d bytes)", len(got))
	}
	if m, _ := os.ReadFile(filepath.Join(res.Dir, UnverifiedName)); !strings.Contains(string(m), "the manifest says") {
		t.Errorf("%s = %q", UnverifiedName, m)
	}
}

// TestRunKeepsDumpWhenAnalysisFails: the analyzer cannot run.
func TestRunKeepsDumpWhenAnalysisFails(t *testing.T) {
	res, err := fakeRun(t, faultNone, "", filepath.Join(t.TempDir(), "no-analyzer"))
	wantKept(t, res, err, `stage "analyze"`)
}

// TestRunCleanPassLeavesNoScratch: a run that passes leaves the dump and
// no marker, share or disk image.
func TestRunCleanPassLeavesNoScratch(t *testing.T) {
	res, err := fakeRun(t, faultNone, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if res.Agreed != 8 {
		t.Errorf("agreed on %d facts", res.Agreed)
	}
	ents, _ := os.ReadDir(res.Dir)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "console.log dmesg.txt manifest.json vmcore" {
		t.Errorf("dump directory holds %v", names)
	}
}

// TestRunKeepsDiskDumpWhenQEMUNeverExits: the raw-disk path, extracted.
func TestRunKeepsDiskDumpWhenQEMUNeverExits(t *testing.T) {
	res, err := fakeRun(t, faultHang, "disk", "")
	wantKept(t, res, err, `stage "powered off"`)
	if _, serr := os.Stat(filepath.Join(res.Dir, ".disk.img")); !errors.Is(serr, os.ErrNotExist) {
		t.Errorf("the disk's files came out whole, yet the image is still there: %v", serr)
	}
}

// TestRunKeepsDiskCutShort: power lost before the disk header was
// written: nothing can be extracted, so the image itself is kept.
func TestRunKeepsDiskCutShort(t *testing.T) {
	res, err := fakeRun(t, faultCut, "disk", "")
	if !errors.Is(err, ErrUnverified) || !strings.Contains(err.Error(), res.Dir) {
		t.Fatalf("err = %v", err)
	}
	img, rerr := os.ReadFile(filepath.Join(res.Dir, diskName))
	if rerr != nil || !bytes.Contains(img, fakeVmcore()) {
		t.Fatalf("%s: %v; want the image with the cut dump's bytes", diskName, rerr)
	}
	m, _ := os.ReadFile(filepath.Join(res.Dir, UnverifiedName))
	if !strings.Contains(string(m), "raw disk kept as") || !strings.Contains(string(m), `stage "vmcore saved"`) {
		t.Errorf("%s = %q", UnverifiedName, m)
	}
}

// TestRunNothingHome: a board that says it saved but wrote nothing is a
// retrieve failure that says so, with no marker and no scratch left.
func TestRunNothingHome(t *testing.T) {
	res, err := fakeRun(t, faultNothing, "", "")
	if err == nil || !strings.Contains(err.Error(), `stage "retrieve": nothing reached the host`) || errors.Is(err, ErrUnverified) {
		t.Fatalf("err = %v", err)
	}
	ents, _ := os.ReadDir(res.Dir)
	if len(ents) != 1 || ents[0].Name() != consoleName {
		t.Errorf("dump directory holds %v, want only %s", ents, consoleName)
	}
}

// TestDumpDirNeverShared: two runs started in the same second get a
// directory each.
func TestDumpDirNeverShared(t *testing.T) {
	dumps, now := t.TempDir(), time.Now()
	a, err := newDumpDir(dumps, now)
	if err != nil {
		t.Fatal(err)
	}
	b, err := newDumpDir(dumps, now)
	if err != nil || a == b || !strings.HasSuffix(b, "-2") {
		t.Errorf("second run's directory %q (%v), the first's %q", b, err, a)
	}
}
