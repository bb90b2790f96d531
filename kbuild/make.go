package kbuild

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"time"
)

// ErrBadMakeArg means a target or variable value make would read as
// something else: an option, an assignment or a function call.
var ErrBadMakeArg = errors.New("not a plain make target")

// makeTarget is a target or file name make can only read as a target.
var makeTarget = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.+/-]*$`)

// make runs the kernel's make out of tree with the board's ARCH and the
// toolchain (through ccache when the host has it). Its output goes to
// obj/build.log; a failure quotes the log's last lines.
func (b *Build) make(ctx context.Context, obj string, targets ...string) error {
	return b.makeWith(ctx, obj, nil, targets...)
}

// makeWith is make with its output also written to watch (when not nil).
func (b *Build) makeWith(ctx context.Context, obj string, watch io.Writer, targets ...string) error {
	argv, err := b.makeArgs(obj, targets)
	if err != nil {
		return err
	}
	logPath := filepath.Join(obj, "build.log")
	lf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer lf.Close()
	fmt.Fprintf(lf, "$ make %s\n", strings.Join(argv, " "))
	start := time.Now()
	var out io.Writer = lf
	if b.MakeLog != nil {
		out = io.MultiWriter(lf, b.MakeLog)
	}
	if watch != nil {
		out = io.MultiWriter(out, watch)
	}
	var tail tailBuffer
	cmd := exec.CommandContext(ctx, "make", argv...)
	cmd.Env = b.Toolchain.Env(os.Environ())
	cmd.Stdout, cmd.Stderr = io.MultiWriter(out, &tail), io.MultiWriter(out, &tail)
	err = cmd.Run()
	// The log keeps each step's wall time: the cold-build number comes from here.
	fmt.Fprintf(lf, "# %s: %v after %s\n", strings.Join(targets, " "), errOrOK(err), time.Since(start).Round(time.Second))
	if err != nil {
		return fmt.Errorf("make %s: %w; last lines (full log %s):\n%s", strings.Join(targets, " "), err, logPath, tail.last(30))
	}
	return nil
}

// makeArgs is make's argv: options, then "--" so nothing after it is an
// option, then the variables and the targets. make still reads VAR=value
// and expands $(...) after "--", so targets must be plain names and no
// variable value may hold a '$'.
func (b *Build) makeArgs(obj string, targets []string) ([]string, error) {
	vars := []string{"O=" + obj, "ARCH=" + b.Board.KernelArch(), "CROSS_COMPILE=" + b.Toolchain.CrossCompile}
	if _, err := exec.LookPath("ccache"); err == nil {
		// CC, not CROSS_COMPILE: the latter also prefixes ld, objcopy…
		vars = append(vars, "CC=ccache "+b.Toolchain.CrossCompile+"gcc")
	}
	for _, v := range vars {
		if strings.ContainsAny(v, "$\n\x00") {
			return nil, fmt.Errorf("make variable %q: make would expand it: %w", v, ErrBadMakeArg)
		}
	}
	for _, t := range targets {
		if !makeTarget.MatchString(t) || strings.Contains(t, "..") {
			return nil, fmt.Errorf("make target %q (from %s): %w", t, b.Board.Path, ErrBadMakeArg)
		}
	}
	argv := append([]string{"-C", b.Tree.Dir, fmt.Sprintf("-j%d", b.jobs()), "--"}, vars...)
	return append(argv, targets...), nil
}

// jobs is make's -j: Jobs, or one per CPU.
func (b *Build) jobs() int {
	if b.Jobs > 0 {
		return b.Jobs
	}
	return runtime.NumCPU()
}

func errOrOK(err error) any {
	if err == nil {
		return "ok"
	}
	return err
}

// tailBuffer keeps the last 64 KiB written to it.
type tailBuffer struct{ b []byte }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > 64<<10 {
		t.b = t.b[len(t.b)-64<<10:]
	}
	return len(p), nil
}

func (t *tailBuffer) last(n int) string {
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(t.b))
	for sc.Scan() {
		lines = append(lines, "    "+sc.Text())
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
