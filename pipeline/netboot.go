package pipeline

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kdumpkit/kdumpkit/capture"
	"github.com/kdumpkit/kdumpkit/console"
	"github.com/kdumpkit/kdumpkit/netboot"
	"github.com/kdumpkit/kdumpkit/power"
	"github.com/kdumpkit/kdumpkit/protocol"
	"github.com/kdumpkit/kdumpkit/qemu"
	"github.com/kdumpkit/kdumpkit/uboot"
)

// bootNet is boot for a board that boots through U-Boot: kdumpkit's TFTP
// server serves the kernel and initramfs, the console is a serial device
// (QEMU's pty for a QEMU board), and the capture kernel uploads the dump
// over HTTP to a receiver that files it into the scratch's http directory.
// The stages after "kernel started" are the QEMU boards' own.
func (k *Kdump) bootNet(ctx context.Context, res *Result, sc scratch) (*Truth, error) {
	b := k.Board
	logPath := filepath.Join(res.Dir, consoleName)
	conLog, err := os.Create(logPath)
	if err != nil {
		return ParseTruth(nil), err
	}
	defer conLog.Close()
	var out io.Writer = conLog
	if k.Verbose {
		out = io.MultiWriter(conLog, k.Log)
	}
	progress := func(r qemu.Reached) {
		res.Stages = append(res.Stages, r)
		fmt.Fprintf(k.Log, "kdump: %-22s %6.1fs  %s\n", r.Stage, r.Duration.Seconds(), r.Line)
	}

	files, cleanup, err := k.bootFiles(ctx)
	if err != nil {
		return ParseTruth(nil), fmt.Errorf("stage \"serve\": %w", err)
	}
	defer cleanup()
	sizes, err := fileSizes(files)
	if err != nil {
		return ParseTruth(nil), err
	}
	tftpAddr := net.JoinHostPort(b.Network.Listen, strconv.Itoa(b.Network.TFTPPort))
	unlock, err := netboot.LockPort(tftpAddr, k.Log)
	if err != nil {
		return ParseTruth(nil), err
	}
	defer unlock()
	tftp := &netboot.Server{Files: files, Log: k.Log}
	if err := tftp.Listen(tftpAddr); err != nil {
		return ParseTruth(nil), fmt.Errorf("stage \"serve\": %w", err)
	}
	defer tftp.Close()
	recv, url, err := k.receive(sc.http)
	if err != nil {
		return ParseTruth(nil), fmt.Errorf("stage \"serve\": %w", err)
	}
	defer recv.Close()
	fmt.Fprintf(k.Log, "kdump: TFTP server on %s serving %s; HTTP receiver for %s\n", tftp.Addr(), strings.Join(tftp.Names(), ", "), url)

	pb, err := k.powerOn(ctx, out)
	if err != nil {
		return ParseTruth(nil), err
	}
	cmdline := strings.TrimSpace(b.Kernel.Cmdline + " panic=-1 " + protocol.TestParams(k.Crash, url, k.Kexec, k.Format))
	s := &uboot.Session{C: pb.con, Board: b, Cmdline: cmdline, Log: k.Log, LogPath: logPath, Reached: progress,
		Files: uboot.Files{Kernel: sizes[uboot.KernelName], Initrd: sizes[uboot.InitrdName], DTB: sizes[uboot.DTBName],
			FIT: sizes[uboot.FITName]},
		Missed: tftp.Missed, Served: tftp.Names()}
	if err := s.Boot(); err != nil {
		pb.off()
		return ParseTruth(nil), err
	}
	w := &qemu.Watcher{Stages: k.stages(), LogPath: logPath, Reached: progress,
		EndReason: "the console ended: " + pb.con.Device + " vanished (cable unplugged, board or QEMU gone)"}
	if err := w.Watch(pb.con.Reader()); err != nil {
		pb.off()
		return ParseTruth(w.Lines()), err
	}
	if err := pb.poweredOff(b.Kdump.Timeouts.Poweroff.D()); err != nil {
		return ParseTruth(w.Lines()), fmt.Errorf("stage \"powered off\": %w (full console log: %s)", err, logPath)
	}
	return ParseTruth(w.Lines()), nil
}

// bootFiles are the files the TFTP server serves, by the names U-Boot
// asks for: kernel, initramfs and DTB, or with uboot.boot = "fit" one
// FIT image of them made in a temporary directory that cleanup removes.
func (k *Kdump) bootFiles(ctx context.Context) (files map[string]string, cleanup func(), err error) {
	u := k.Board.UBoot
	if u.Boot != "fit" {
		files = map[string]string{uboot.KernelName: k.Kernel, uboot.InitrdName: k.Initrd}
		if u.FDT == "tftp" {
			files[uboot.DTBName] = k.DTB
		}
		return files, func() {}, nil
	}
	tmp, err := os.MkdirTemp("", "kdumpkit-fit-")
	if err != nil {
		return nil, nil, err
	}
	cleanup = func() { os.RemoveAll(tmp) }
	fit := filepath.Join(tmp, "image.itb")
	if err := uboot.MakeFIT(ctx, k.Board, k.Kernel, k.Initrd, k.DTB, fit); err != nil {
		cleanup()
		return nil, nil, err
	}
	return map[string]string{uboot.FITName: fit}, cleanup, nil
}

// poweredBoard is a U-Boot board switched on, its console open: a QEMU
// board's QEMU (its power switch), or a real board's switch.
type poweredBoard struct {
	con  *console.Console
	proc *qemu.Process
	sw   power.Switch
}

// powerOn switches the board on with its console open. A QEMU board's
// console exists only once QEMU runs; a real board's is opened first so
// U-Boot's banner is not missed.
func (k *Kdump) powerOn(ctx context.Context, out io.Writer) (*poweredBoard, error) {
	b := k.Board
	pb := &poweredBoard{}
	var err error
	if b.RealHardware() {
		if pb.con, err = console.Open(b.Console.Device, b.Console.Baud, out); err != nil {
			return nil, fmt.Errorf("stage \"console\": %w", err)
		}
		pb.sw = power.For(b.Power, os.Stdin, k.Log)
		if err := pb.sw.On(ctx); err != nil {
			pb.con.Close()
			return nil, fmt.Errorf("stage \"power on\": %w", err)
		}
	} else {
		run := &qemu.Run{Board: b, Console: prefixed(k.Log, "qemu: ")}
		fmt.Fprintf(k.Log, "kdump: %s\n", run.String())
		var pty string
		if pb.proc, pty, err = run.StartBoard(ctx); err != nil {
			return nil, fmt.Errorf("stage \"power on\": %w", err)
		}
		if pb.con, err = console.Open(pty, b.Console.Baud, out); err != nil {
			pb.proc.Kill()
			pb.proc.Wait(time.Minute)
			return nil, fmt.Errorf("stage \"console\": %w", err)
		}
	}
	fmt.Fprintf(k.Log, "kdump: console on serial device %s at %d baud\n", pb.con.Device, b.Console.Baud)
	return pb, nil
}

// off ends a run that failed: QEMU killed, a real board switched off.
func (pb *poweredBoard) off() {
	if pb.proc != nil {
		pb.proc.Kill()
		pb.proc.Wait(time.Minute)
	} else {
		pb.sw.Off(context.Background())
	}
	pb.con.Close()
}

// poweredOff ends a run that passed: a QEMU board powers itself off
// (within timeout); a real board is switched off by its own command,
// whose failure does not fail the run: the capture kernel already
// powered the board off, and the dump is home.
func (pb *poweredBoard) poweredOff(timeout time.Duration) error {
	defer pb.con.Close()
	if pb.proc != nil {
		return pb.proc.Wait(timeout)
	}
	pb.sw.Off(context.Background())
	return nil
}

func fileSizes(files map[string]string) (map[string]int64, error) {
	sizes := map[string]int64{}
	for name, path := range files {
		fi, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("stage \"serve\": %s: %w", name, err)
		}
		sizes[name] = fi.Size()
	}
	return sizes, nil
}

// receiver is the run's HTTP receiver: it listens on the board's
// network.listen and files uploads into dir.
type receiver struct {
	srv *http.Server
	rc  *capture.Receiver
	wg  sync.WaitGroup
}

func (r *receiver) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r.srv.Shutdown(ctx)
	r.wg.Wait()
}

// receive starts the receiver with a fresh token and returns the target
// the capture kernel uploads to: http://TOKEN@HOST:PORT/.
func (k *Kdump) receive(dir string) (*receiver, string, error) {
	tok := make([]byte, 16)
	rand.Read(tok)
	token := hex.EncodeToString(tok)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, "", err
	}
	l, err := net.Listen("tcp4", net.JoinHostPort(k.Board.Network.Listen, "0"))
	if err != nil {
		return nil, "", fmt.Errorf("HTTP receiver: %w", err)
	}
	rc := &capture.Receiver{Dir: dir, Token: token, Log: prefixed(k.Log, "")}
	r := &receiver{rc: rc, srv: rc.Server()}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.srv.Serve(l)
	}()
	port := l.Addr().(*net.TCPAddr).Port
	return r, fmt.Sprintf("http://%s@%s/", token, net.JoinHostPort(k.Board.Network.Host, strconv.Itoa(port))), nil
}

// prefixed writes each line with a prefix (QEMU's own messages, the
// receiver's log) into the run's log, whole lines at a time.
func prefixed(w io.Writer, prefix string) io.Writer {
	return &linePrefixer{w: w, prefix: prefix}
}

type linePrefixer struct {
	mu     sync.Mutex
	w      io.Writer
	prefix string
	part   []byte // a line not yet ended
}

func (p *linePrefixer) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.part = append(p.part, b...)
	for {
		i := bytes.IndexByte(p.part, '\n')
		if i < 0 {
			break
		}
		p.w.Write(append([]byte(p.prefix), p.part[:i+1]...))
		p.part = p.part[i+1:]
	}
	return len(b), nil
}
