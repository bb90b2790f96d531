// Package crashoracle runs the real crash utility on a dump so tests can
// compare the analyzer's answers with crash's. crash 8.0.2 has no build
// that reads an ARM32 dump on an x86_64 host, but Debian's armhf build
// runs there under QEMU user mode: the crash package and its run-time
// libraries, unpacked with dpkg-deb -x into one directory (Root), run as
// `qemu-arm-static -L ROOT ROOT/usr/bin/crash -s VMLINUX VMCORE`. A call
// costs 30 to 75 s (crash reads the whole DWARF under emulation), so a
// test sends every command in one call (Run).
//
// Nothing here installs anything: Find says what is missing and the test
// skips with that reason.
package crashoracle

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// ErrMissing means crash or QEMU user mode is not installed here.
var ErrMissing = errors.New("crash oracle not installed")

// Oracle is one installed crash build and the QEMU user-mode emulator
// that runs it.
type Oracle struct {
	Root string // the unpacked packages: Root/usr/bin/crash, Root/lib/...
	QEMU string // qemu-arm-static (or qemu-aarch64-static for arm64)
}

// RootEnv names the environment variable that overrides where the
// unpacked crash packages are looked for.
const RootEnv = "KDUMPKIT_CRASH_ROOT"

// Find locates crash for dumps of the given Debian architecture ("armhf"
// or "arm64"): $KDUMPKIT_CRASH_ROOT, else
// $XDG_CACHE_HOME/kdumpkit/oracle/crash-ARCH (default ~/.cache), and the
// matching qemu-*-static on PATH. The error says how to install both.
func Find(debArch string) (Oracle, error) {
	qemuName := map[string]string{"armhf": "qemu-arm-static", "arm64": "qemu-aarch64-static"}[debArch]
	if qemuName == "" {
		return Oracle{}, fmt.Errorf("%w: no QEMU user mode known for Debian architecture %q", ErrMissing, debArch)
	}
	root := os.Getenv(RootEnv)
	if root == "" {
		cache := os.Getenv("XDG_CACHE_HOME")
		if cache == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return Oracle{}, fmt.Errorf("%w: no home directory: %v", ErrMissing, err)
			}
			cache = filepath.Join(home, ".cache")
		}
		root = filepath.Join(cache, "kdumpkit", "oracle", "crash-"+debArch)
	}
	how := fmt.Sprintf("dpkg --add-architecture %s; apt-get update; apt-get install qemu-user-static; "+
		"apt-get download crash:%[1]s and its libraries (libc6 libgcc-s1 liblzo2-2 libncursesw6 libsnappy1v5 libstdc++6 "+
		"libtinfo6 libzstd1 zlib1g binutils libbinutils libctf0 libctf-nobfd0 libjansson4, all :%[1]s); dpkg-deb -x each into %s",
		debArch, root)
	if _, err := os.Stat(filepath.Join(root, "usr", "bin", "crash")); err != nil {
		return Oracle{}, fmt.Errorf("%w: no %s (%v); to install: %s", ErrMissing, filepath.Join(root, "usr/bin/crash"), err, how)
	}
	q, err := exec.LookPath(qemuName)
	if err != nil {
		return Oracle{}, fmt.Errorf("%w: %s not on PATH; to install: %s", ErrMissing, qemuName, how)
	}
	return Oracle{Root: root, QEMU: q}, nil
}

// marker separates the answers of Run's commands in crash's output;
// crash's own echo prints it.
const marker = "===KDUMPKIT-ORACLE "

// Run starts crash once on vmlinux and vmcore, runs cmds in order and
// returns each command's output (stdout and stderr as crash interleaves
// them), in the order given. Startup warnings crash prints before the
// first command are returned as preamble.
func (o Oracle) Run(ctx context.Context, vmlinux, vmcore string, cmds []string) (answers []string, preamble string, err error) {
	var in strings.Builder
	for i, c := range cmds {
		if strings.ContainsAny(c, "\n") {
			return nil, "", fmt.Errorf("crash command %d %q holds a newline", i, c)
		}
		fmt.Fprintf(&in, "echo %s%d===\n%s\n", marker, i, c)
	}
	fmt.Fprintf(&in, "echo %s%d===\nq\n", marker, len(cmds))
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	crash := filepath.Join(o.Root, "usr", "bin", "crash")
	c := exec.CommandContext(ctx, o.QEMU, "-L", o.Root, crash, "-s", vmlinux, vmcore)
	c.Stdin = strings.NewReader(in.String())
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	c.Env = append(os.Environ(), "PAGER=cat", "TERM=dumb")
	runErr := c.Run()
	answers, preamble, splitErr := split(out.String(), len(cmds))
	if splitErr != nil {
		return nil, out.String(), fmt.Errorf("crash %s %s: %w (run: %v)", vmlinux, vmcore, splitErr, runErr)
	}
	return answers, preamble, nil
}

// split cuts crash's output at the markers into n answers.
func split(out string, n int) ([]string, string, error) {
	answers := make([]string, n)
	first := strings.Index(out, marker+"0===")
	if first < 0 {
		return nil, "", fmt.Errorf("crash printed no answer (its output: %.2000s)", out)
	}
	preamble := out[:first]
	rest := out[first:]
	for i := 0; i < n; i++ {
		this := marker + fmt.Sprint(i) + "===\n"
		next := marker + fmt.Sprint(i+1) + "==="
		if !strings.HasPrefix(rest, this) {
			return nil, "", fmt.Errorf("answer %d: marker missing", i)
		}
		end := strings.Index(rest, next)
		if end < 0 {
			return nil, "", fmt.Errorf("answer %d: crash stopped before the next command (rest: %.2000s)", i, rest)
		}
		answers[i] = rest[len(this):end]
		rest = rest[end:]
	}
	return answers, preamble, nil
}

// Require is Find for tests: it skips tb, with the install recipe, where
// crash is not installed, and fails it on any other error.
func Require(tb testing.TB, debArch string) Oracle {
	tb.Helper()
	o, err := Find(debArch)
	if errors.Is(err, ErrMissing) {
		tb.Skip(err)
	}
	if err != nil {
		tb.Fatal(err)
	}
	return o
}

// FixedVmlinux is PidSizeFix for tests: a copy of vmlinux in tb's
// temporary directory whose DWARF gives struct pid the size crash 8.0.2
// expects, which crash must be given to find the tasks.
func FixedVmlinux(tb testing.TB, vmlinux string) string {
	tb.Helper()
	fixed := filepath.Join(tb.TempDir(), "vmlinux")
	before, after, err := PidSizeFix(vmlinux, fixed)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Logf("struct pid for crash 8.0.2: %d → %d bytes", before, after)
	return fixed
}
