// Package qemu boots a board's kernel under QEMU (the system emulator's
// command line as documented in qemu-system-arm(1)) with the serial
// console on stdio, a 9p host share and a raw virtio disk for dumps, and
// watches the console for the stages of a kdump run (watch.go).
package qemu

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/kdumpkit/kdumpkit/boards"
)

// Run is one QEMU boot.
type Run struct {
	Board       *boards.Board
	Kernel, DTB string
	Initrd      string
	Append      string // added to the board's command line
	Share       string // host directory exported as 9p tag "dump"; "" for none
	Disk        string // raw disk image as a virtio-blk device; "" for none
	GDB         bool   // -s -S: wait for gdb on :1234
	Console     io.Writer
	Stdin       io.Reader // nil: no input (-nographic still wants a terminal or a pipe)
}

// Cmdline is the first kernel's command line.
func (r *Run) Cmdline() string {
	return strings.TrimSpace(r.Board.Kernel.Cmdline + " " + r.Append)
}

// Args is QEMU's command line, without the binary.
func (r *Run) Args() []string { return r.args(false) }

// args is Args; onTerminal puts a firmware board's console on stdio
// instead of a pty.
func (r *Run) args(onTerminal bool) []string {
	q := r.Board.QEMU
	a := []string{"-M", q.Machine, "-m", q.Memory.String(), "-smp", fmt.Sprint(q.SMP)}
	if q.CPU != "" {
		a = append(a, "-cpu", q.CPU)
	}
	if q.Firmware != "" {
		// A U-Boot board: QEMU is only the machine. Its firmware loads the
		// kernel, and the serial console is a pty kdumpkit opens as it
		// opens a USB serial adapter (StartBoard).
		a = append(a, "-bios", q.Firmware)
		if onTerminal {
			a = append(a, "-nographic", "-no-reboot")
		} else {
			a = append(a, "-display", "none", "-serial", "pty", "-monitor", "none", "-no-reboot")
		}
		return append(a, q.Args...)
	}
	a = append(a, "-kernel", r.Kernel)
	if r.DTB != "" {
		a = append(a, "-dtb", r.DTB)
	}
	if r.Initrd != "" {
		a = append(a, "-initrd", r.Initrd)
	}
	a = append(a, "-append", r.Cmdline(), "-nographic", "-no-reboot")
	// virtio-mmio transports on ARM machines, PCI elsewhere.
	dev := "-device"
	blk, p9 := "virtio-blk-device", "virtio-9p-device"
	if r.Board.Arch == "x86_64" {
		blk, p9 = "virtio-blk-pci", "virtio-9p-pci"
	}
	if r.Share != "" {
		a = append(a, "-fsdev", "local,id=dump0,path="+r.Share+",security_model=none", dev, p9+",fsdev=dump0,mount_tag=dump")
	}
	if r.Disk != "" {
		a = append(a, "-drive", "file="+r.Disk+",if=none,format=raw,id=disk0", dev, blk+",drive=disk0")
	}
	if r.GDB {
		a = append(a, "-s", "-S")
	}
	return append(a, q.Args...)
}

// GDBCommand is what to type to attach gdb to a Run with GDB set.
func GDBCommand(vmlinux string) string {
	return fmt.Sprintf("gdb-multiarch %s -ex 'target remote :1234'", vmlinux)
}

// String is the command line shell-quoted for a POSIX shell, for logs and
// for users to paste: every argument that is not plainly safe is put in
// single quotes, so a path with spaces or $(...) reaches QEMU as it is.
func (r *Run) String() string {
	parts := []string{shellQuote(r.Board.QEMU.Binary, true)}
	for _, a := range r.Args() {
		parts = append(parts, shellQuote(a, false))
	}
	return strings.Join(parts, " ")
}

// shellQuote leaves a word of only safe characters as it is and single-
// quotes anything else. '=' is safe except in the first word, where the
// shell would take NAME=value for an assignment rather than the command.
func shellQuote(s string, first bool) string {
	safe := s != ""
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("_+:,./-", c) || c == '=' && !first) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Process is a running QEMU.
type Process struct {
	cmd  *exec.Cmd
	done chan error
	// Output is the console stream (also copied to Run.Console).
	Output io.Reader
}

// Start starts QEMU in its own process group, so cancelling ctx or Kill
// ends it and any helper it forked.
func (r *Run) Start(ctx context.Context) (*Process, error) {
	cmd := exec.Command(r.Board.QEMU.Binary, r.Args()...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	pr, pw := io.Pipe()
	var out io.Writer = pw
	if r.Console != nil {
		out = io.MultiWriter(pw, r.Console)
	}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Stdin = r.Stdin
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", r.Board.QEMU.Binary, err)
	}
	p := &Process{cmd: cmd, done: make(chan error, 1), Output: pr}
	go func() {
		err := cmd.Wait()
		pw.CloseWithError(io.EOF)
		p.done <- err
	}()
	go func() {
		<-ctx.Done()
		p.Kill()
	}()
	return p, nil
}

// ptyLine is how QEMU names the pty of -serial pty on its stderr.
var ptyLine = regexp.MustCompile(`char device redirected to (/dev/pts/[0-9]+) \(label serial0\)`)

// StartBoard starts a firmware board (Board.QEMU.Firmware) and returns it
// with the path of its serial console's pty. QEMU's own messages go to
// Console; the board's console is on the pty, not in Output.
func (r *Run) StartBoard(ctx context.Context) (*Process, string, error) {
	if r.Board.QEMU.Firmware == "" {
		return nil, "", fmt.Errorf("board %s has no qemu.firmware: it boots with -kernel, not as a U-Boot board", r.Board.Name)
	}
	p, err := r.Start(ctx)
	if err != nil {
		return nil, "", err
	}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(p.Output)
		sent := false
		for sc.Scan() {
			if m := ptyLine.FindStringSubmatch(sc.Text()); m != nil && !sent {
				found <- m[1]
				sent = true
			}
		}
		close(found)
	}()
	select {
	case pty, ok := <-found:
		if ok {
			return p, pty, nil
		}
		err = p.Wait(time.Second)
		return nil, "", fmt.Errorf("QEMU exited before opening its serial pty (%v): %s", err, r.String())
	case <-time.After(30 * time.Second):
		p.Kill()
		p.Wait(time.Second)
		return nil, "", fmt.Errorf("QEMU did not name its serial pty within 30s: %s", r.String())
	}
}

// Kill ends QEMU's process group.
func (p *Process) Kill() {
	if p.cmd.Process != nil {
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	}
}

// Wait waits for QEMU to exit, at most timeout, then kills it.
func (p *Process) Wait(timeout time.Duration) error {
	select {
	case err := <-p.done:
		return err
	case <-time.After(timeout):
		p.Kill()
		<-p.done
		return fmt.Errorf("QEMU did not exit within %s; killed", timeout)
	}
}

// Interactive runs QEMU on the user's terminal (qemu:run, qemu:gdb); a
// firmware board gives its firmware's prompt (U-Boot's) there.
func (r *Run) Interactive(ctx context.Context) error {
	if r.Board.QEMU.Machine == "" {
		return fmt.Errorf("board %s is real hardware (no [qemu] section): kdump:test drives it over %s", r.Board.Name, r.Board.Console.Device)
	}
	cmd := exec.CommandContext(ctx, r.Board.QEMU.Binary, r.args(true)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	return cmd.Run()
}
