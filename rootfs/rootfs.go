// Package rootfs builds the board's u-root initramfs images from Go
// (github.com/u-root/mkuimage): one busybox binary of u-root's core tools
// and kdumpkit's target commands (kexec, capture, kdumpinit), u-root's
// init with kdumpinit as its uinit, and extra files — for the first
// kernel, the crash kernel and the capture initramfs. Images are rebuilt
// only when an input changed.
package rootfs

import (
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/u-root/gobusybox/src/pkg/golang"
	"github.com/u-root/mkuimage/uimage"
	"github.com/u-root/uio/llog"
)

// Our target-side commands.
const (
	CmdKexec     = "github.com/kdumpkit/kdumpkit/cmds/kexec"
	CmdCapture   = "github.com/kdumpkit/kdumpkit/cmds/capture"
	CmdKdumpinit = "github.com/kdumpkit/kdumpkit/cmds/kdumpinit"
)

// CaptureCommands is the small set the capture kernel's initramfs needs:
// it must fit the crash reservation beside the kernel.
var CaptureCommands = []string{
	"github.com/u-root/u-root/cmds/core/init",
	"github.com/u-root/u-root/cmds/core/gosh",
	"github.com/u-root/u-root/cmds/core/ls",
	"github.com/u-root/u-root/cmds/core/cat",
	"github.com/u-root/u-root/cmds/core/dmesg",
	"github.com/u-root/u-root/cmds/core/mount",
	"github.com/u-root/u-root/cmds/core/poweroff",
	CmdCapture, CmdKdumpinit,
}

// MainCommands is the first kernel's set: a shell and the core tools for
// interactive use, plus kexec.
var MainCommands = append([]string{
	"github.com/u-root/u-root/cmds/core/ps",
	"github.com/u-root/u-root/cmds/core/echo",
	"github.com/u-root/u-root/cmds/core/cp",
	"github.com/u-root/u-root/cmds/core/mkdir",
	"github.com/u-root/u-root/cmds/core/rm",
	"github.com/u-root/u-root/cmds/core/sync",
	"github.com/u-root/u-root/cmds/core/uname",
	"github.com/u-root/u-root/cmds/core/free",
	"github.com/u-root/u-root/cmds/core/grep",
	"github.com/u-root/u-root/cmds/core/sleep",
	"github.com/u-root/u-root/cmds/core/umount",
	CmdKexec,
}, CaptureCommands...)

// Image is one initramfs to build.
type Image struct {
	GOARCH, GOARM string
	ModuleDir     string            // the kdumpkit module: commands resolve from here
	Commands      []string          // Go packages built into the busybox
	Files         map[string]string // archive path → host path
	Out           string            // .cpio.gz written atomically
	Log           io.Writer
	// Every is how often a build says it is still going (0: 30 s): one
	// go build of every command has no steps to count, only time.
	Every time.Duration
}

// Build makes the image unless Out is up to date with every input: the
// module's Go sources and go.sum, the extra files, the settings.
func (im *Image) Build(ctx context.Context) (built bool, err error) {
	if err := os.MkdirAll(filepath.Dir(im.Out), 0o755); err != nil {
		return false, err
	}
	unlock, err := lock(im.Out)
	if err != nil {
		return false, err
	}
	defer unlock()
	stamp, err := im.stamp()
	if err != nil {
		return false, err
	}
	if old, err := os.ReadFile(im.Out + ".stamp"); err == nil && string(old) == stamp {
		if _, err := os.Stat(im.Out); err == nil {
			fmt.Fprintf(im.Log, "rootfs: %s is up to date\n", im.Out)
			return false, nil
		}
	}
	start := time.Now()
	if err := os.MkdirAll(filepath.Dir(im.Out), 0o755); err != nil {
		return false, err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(im.Out), ".rootfs-")
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(tmp)
	cpio := filepath.Join(tmp, "initramfs.cpio")
	fmt.Fprintf(im.Log, "rootfs: building %s: %d commands compiled into one Go binary for %s, then cpio and gzip\n", im.Out, len(im.Commands), im.GOARCH)
	stop := im.stillBuilding(start)
	err = im.create(cpio, tmp)
	stop()
	if err != nil {
		return false, err
	}
	if err := gzipFile(cpio, im.Out); err != nil {
		return false, err
	}
	if err := os.WriteFile(im.Out+".stamp", []byte(stamp), 0o644); err != nil {
		return false, err
	}
	st, _ := os.Stat(im.Out)
	fmt.Fprintf(im.Log, "rootfs: %s (%d KiB) built in %s\n", im.Out, st.Size()>>10, time.Since(start).Round(time.Second))
	return true, nil
}

// stillBuilding prints a line every Every until stop is called, so a log
// shows a build that takes a while is not hung.
func (im *Image) stillBuilding(start time.Time) (stop func()) {
	every := im.Every
	if every <= 0 {
		every = 30 * time.Second
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				fmt.Fprintf(im.Log, "rootfs: %s: still building, %s\n", filepath.Base(im.Out), time.Since(start).Round(time.Second))
			}
		}
	}()
	return func() { close(done); <-finished }
}

func (im *Image) create(out, tmp string) error {
	goroot, err := goEnv("GOROOT")
	if err != nil {
		return err
	}
	// GOARM is read from the environment by the go command mkuimage runs.
	if im.GOARM != "" {
		os.Setenv("GOARM", im.GOARM)
	}
	var files []string
	names := make([]string, 0, len(im.Files))
	for dst := range im.Files {
		names = append(names, dst)
	}
	sort.Strings(names)
	for _, dst := range names {
		files = append(files, im.Files[dst]+":"+strings.TrimPrefix(dst, "/"))
	}
	l := llog.New(slog.LevelInfo, llog.WritePrintf(io.Discard))
	if im.Log != nil {
		l = llog.New(slog.LevelInfo, func(format string, v ...any) { fmt.Fprintf(im.Log, "rootfs: "+format+"\n", v...) })
	}
	env := golang.Default(golang.WithGOARCH(im.GOARCH), golang.WithGOOS("linux"), golang.WithGOROOT(goroot), golang.WithWorkingDir(im.ModuleDir))
	env.CgoEnabled = false // static binaries for the target; no cross C compiler needed
	mods := []uimage.Modifier{
		uimage.WithReplaceEnv(env),
		uimage.WithBaseArchive(uimage.DefaultRamfs()),
		uimage.WithBusyboxCommands(im.Commands...),
		uimage.WithInit("init"),
		uimage.WithUinit("kdumpinit"),
		uimage.WithShell("gosh"),
		uimage.WithFiles(files...),
		uimage.WithSkipLDD(), // every file is static or data
		uimage.WithCPIOOutput(out),
		uimage.WithTempDir(tmp),
	}
	if err := uimage.Create(l, mods...); err != nil {
		return fmt.Errorf("rootfs %s: %w", im.Out, err)
	}
	return nil
}

func goEnv(key string) (string, error) {
	out, err := exec.Command("go", "env", key).Output()
	if err != nil {
		return "", fmt.Errorf("go env %s: %w", key, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// stamp hashes every input of the image.
func (im *Image) stamp() (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "rootfs-1\n%s %s\n%s\n", im.GOARCH, im.GOARM, strings.Join(im.Commands, "\n"))
	for _, name := range []string{"go.mod", "go.sum"} {
		if err := hashFile(h, filepath.Join(im.ModuleDir, name)); err != nil {
			return "", err
		}
	}
	dirs, err := im.ownPackageDirs()
	if err != nil {
		return "", err
	}
	for _, dir := range dirs {
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, p := range files {
			if strings.HasSuffix(p, "_test.go") {
				continue
			}
			rel, _ := filepath.Rel(im.ModuleDir, p) // any checkout of the same code matches
			fmt.Fprintln(h, rel)
			if err := hashFile(h, p); err != nil {
				return "", err
			}
		}
	}
	names := make([]string, 0, len(im.Files))
	for dst := range im.Files {
		names = append(names, dst)
	}
	sort.Strings(names)
	for _, dst := range names {
		fmt.Fprintln(h, dst)
		if err := hashFile(h, im.Files[dst]); err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)) + "\n", nil
}

// ownPackageDirs lists the directories of this module's packages that
// the image's commands depend on for the target, so host-only changes
// (the analyzer's commands, say) do not rebuild the image.
func (im *Image) ownPackageDirs() ([]string, error) {
	var own []string
	for _, c := range im.Commands {
		if strings.HasPrefix(c, "github.com/kdumpkit/kdumpkit/") {
			own = append(own, c)
		}
	}
	if len(own) == 0 {
		return nil, nil
	}
	cmd := exec.Command("go", append([]string{"list", "-deps", "-f", "{{if .Module}}{{if .Module.Main}}{{.Dir}}{{end}}{{end}}"}, own...)...)
	cmd.Dir = im.ModuleDir
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+im.GOARCH, "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list -deps %s: %w", strings.Join(own, " "), err)
	}
	return strings.Fields(string(out)), nil
}

func hashFile(w io.Writer, p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}

func gzipFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := dst + ".tmp"
	out, err := os.Create(tmp)
	if err != nil {
		return err
	}
	zw, _ := gzip.NewWriterLevel(out, gzip.BestSpeed)
	_, err = io.Copy(zw, in)
	if cerr := zw.Close(); err == nil {
		err = cerr
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, dst)
}
