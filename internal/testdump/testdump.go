// Package testdump gives tests a real vmcore: a shipped board's kernel
// (vexpress unless a test asks for another) crashed with sysrq under QEMU,
// captured and brought home by kdumpkit's own pipeline. It is made once and cached by the hash of what produced
// it (kernel image, device tree, initramfs), so a warm test run pays a
// second or two and a changed kernel or capture tool gets a new dump.
//
// The work is done by a separate program (maketestdump) run with `go
// run`: analyzer tests then need not link the build side (kbuild, rootfs,
// QEMU), and the packages it imports may import this one in their tests.
package testdump

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

// Dump is one cached run; every path is absolute.
type Dump struct {
	Dir     string // the dump directory: vmcore, dmesg.txt, manifest.json, console.log
	Vmlinux string // the crashed kernel's vmlinux (a copy kept beside the dump)
	Vmcore  string
	Console string // console.log of the whole run: ground truth for tests
	Image   string // the kernel image the run booted (zImage, Image), for kexec tests
	DTB     string // "" when the board's QEMU writes the device tree
	Initrd  string // the main initramfs
	Key     string // hash of the inputs
}

// ExitUnavailable is maketestdump's exit status when the host cannot make
// a dump (no QEMU, no cross compiler): tests skip, naming what is missing.
const ExitUnavailable = 3

type result struct {
	once sync.Once
	dump *Dump
	skip string
	err  error
	log  []byte
}

var (
	mu      sync.Mutex
	results = map[string]*result{} // by board name
)

// Require returns the vexpress board's cached dump (RequireBoard).
func Require(tb testing.TB) *Dump {
	tb.Helper()
	return RequireBoard(tb, "vexpress")
}

// RequireBoard returns the cached dump of a shipped board, making it first
// if needed (a kernel build, 10 to 20 minutes cold). It skips under -short
// and when the host lacks what a run needs; any other failure fails tb
// with the maker's log.
func RequireBoard(tb testing.TB, board string) *Dump {
	tb.Helper()
	if testing.Short() {
		tb.Skip("-short: the real dump needs a kernel build and a QEMU run")
	}
	mu.Lock()
	made, ok := results[board]
	if !ok {
		made = &result{}
		results[board] = made
	}
	mu.Unlock()
	made.once.Do(func() { made.make(board) })
	switch {
	case made.skip != "":
		tb.Skip(made.skip)
	case made.err != nil:
		tb.Fatalf("making the test dump: %v\n%s", made.err, made.log)
	}
	d := *made.dump
	return &d
}

func (made *result) make(board string) {
	_, self, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(self), "..", "..")
	cmd := exec.Command("go", "run", "./internal/testdump/maketestdump", board)
	cmd.Dir = root
	var out, log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &log
	err := cmd.Run()
	made.log = log.Bytes()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == ExitUnavailable {
		made.skip = "cannot make the test dump here: " + string(bytes.TrimSpace(lastLine(log.Bytes())))
		return
	}
	if err != nil {
		made.err = err
		return
	}
	var d Dump
	if err := json.Unmarshal(out.Bytes(), &d); err != nil {
		made.err = err
		return
	}
	for _, p := range []string{d.Vmlinux, d.Vmcore, d.Console} {
		if _, err := os.Stat(p); err != nil {
			made.err = err
			return
		}
	}
	made.dump = &d
}

func lastLine(b []byte) []byte {
	b = bytes.TrimRight(b, "\n")
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		return b[i+1:]
	}
	return b
}
