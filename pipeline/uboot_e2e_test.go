package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kdumpkit/kdumpkit/boards"
	"github.com/kdumpkit/kdumpkit/capture"
	"github.com/kdumpkit/kdumpkit/hostcheck"
	"github.com/kdumpkit/kdumpkit/internal/syncbuf"
	"github.com/kdumpkit/kdumpkit/qemu"
)

// prepareUBoot is prepare for the shipped U-Boot board, skipping where
// U-Boot or TFTP's port 69 is out of reach, with the run's log captured
// for the checks as well as shown.
func prepareUBoot(t *testing.T) (*Kdump, *syncbuf.Buffer) {
	b, err := boards.Shipped("arm64-uboot")
	if err != nil {
		t.Fatal(err)
	}
	if testing.Short() {
		t.Skip("-short: builds a kernel and boots QEMU")
	}
	if miss := hostcheck.Missing(hostcheck.ForFirmware(b.QEMU.Firmware), os.Getenv("PATH")); len(miss) > 0 {
		t.Skipf("host lacks %v: `go run mage.go test` installs it", miss)
	}
	l, err := net.ListenPacket("udp4", net.JoinHostPort(b.Network.Listen, "69"))
	switch {
	case errors.Is(err, os.ErrPermission):
		t.Skipf("cannot serve TFTP on port 69 (%v): run as root or `sysctl net.ipv4.ip_unprivileged_port_start=69`", err)
	case err == nil:
		l.Close()
	} // busy: another package's run holds it; ours waits for it
	k := prepare(t, b)
	log := &syncbuf.Buffer{}
	k.Log = io.MultiWriter(log, &testLog{t})
	return k, log
}

// runAgreeing runs k, which must pass with the usual facts agreed, and
// returns the result and the run's log.
func runAgreeing(t *testing.T, k *Kdump, log *syncbuf.Buffer) (*Result, string) {
	t.Helper()
	res, err := k.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Agreed < 8 {
		t.Errorf("only %d facts checked", res.Agreed)
	}
	return res, log.String()
}

// TestKdumpUBootEndToEnd: the U-Boot board through every stage with real
// components only: QEMU virt running Debian's U-Boot, its console a pty
// opened as a serial device, the kernel and initramfs fetched by U-Boot's
// tftpboot from kdumpkit's TFTP server, the dump uploaded by the capture
// kernel over HTTP with the run's token, and the same facts checked as on
// the QEMU boards.
func TestKdumpUBootEndToEnd(t *testing.T) {
	k, log := prepareUBoot(t)
	// The level-31 compressed dump kdump:test saves, streamed flattened
	// over HTTP: 14 MB rather than the 775 MiB ELF copy.
	k.Format = "kdump"
	res, text := runAgreeing(t, k, log)
	for _, want := range []string{
		`tftp: sent kdumpkit/initramfs \(\d+ bytes`, `tftp: sent kdumpkit/Image \(\d+ bytes`,
		`console on serial device /dev/pts/\d+ at 115200 baud`,
		`HTTP receiver for http://[0-9a-f]{32}@10\.0\.2\.2:\d+/`,
		`u-boot: => tftpboot \$\{kernel_addr_r\} kdumpkit/Image`,
	} {
		if !regexp.MustCompile(want).MatchString(text) {
			t.Errorf("the run's log lacks %s", want)
		}
	}
	var stages []string
	for _, s := range res.Stages {
		stages = append(stages, s.Stage)
	}
	if got := strings.Join(stages[:4], ", "); got != "u-boot prompt, tftp kdumpkit/initramfs, tftp kdumpkit/Image, kernel started" {
		t.Errorf("first stages %s", got)
	}
	m, err := capture.ReadManifest(res.Dir)
	if err != nil || !strings.HasPrefix(m.Target, "http://10.0.2.2:") || strings.Contains(m.Target, "@") {
		t.Errorf("manifest target %q (%v): want the HTTP upload, its token left out", m.Target, err)
	}
	if len(res.KASLR) != 2 || res.KASLR[0] == 0 || res.KASLR[1] == 0 {
		t.Errorf("KASLR offsets %#x: want the device tree's kaslr-seed to reach both kernels through U-Boot", res.KASLR)
	}
	if rest, _ := filepath.Glob(filepath.Join(res.Dir, ".*")); len(rest) > 0 {
		t.Errorf("scratch left in the dump directory: %v", rest)
	}
}

// TestUBootConsoleVanishes: the serial console goes away (QEMU killed,
// as a USB serial cable pulled) once the kernel runs. The run stops at
// once at the stage it was in, says the device vanished, and the console
// log already on the host stays whole.
func TestUBootConsoleVanishes(t *testing.T) {
	k, _ := prepareUBoot(t)
	b := *k.Board
	name := fmt.Sprintf("kdumpkit-vanish-%d", os.Getpid())
	b.QEMU.Args = append(append([]string(nil), b.QEMU.Args...), "-name", name)
	k.Board = &b
	go func() {
		for range 600 {
			time.Sleep(200 * time.Millisecond)
			logs, _ := filepath.Glob(filepath.Join(k.DumpsDir, "*", consoleName))
			for _, l := range logs {
				if data, _ := os.ReadFile(l); bytes.Contains(data, []byte("Run /init as init process")) {
					exec.Command("pkill", "-KILL", "-f", name).Run()
					return
				}
			}
		}
	}()
	start := time.Now()
	res, err := k.Run(context.Background())
	var se *qemu.StageError
	if !errors.As(err, &se) || !strings.Contains(se.Reason, "vanished") {
		t.Fatalf("err = %v, want a stage error saying the console vanished", err)
	}
	if d := time.Since(start); d > 3*time.Minute {
		t.Errorf("took %s", d)
	}
	data, rerr := os.ReadFile(filepath.Join(res.Dir, consoleName))
	if rerr != nil || !bytes.Contains(data, []byte("Starting kernel ...")) || !bytes.Contains(data, []byte("Run /init as init process")) {
		t.Errorf("console log on the host (%v) lacks U-Boot's and the kernel's lines", rerr)
	}
	if len(se.Tail) == 0 || se.LogPath == "" {
		t.Errorf("the error lacks the last console lines or the log's path: %v", se)
	}
}

// TestUBootUploadNeverArrives: the capture kernel cannot reach the
// laptop (network.host names an address nothing answers on): the run
// stops at "vmcore saved" with the capture tool's own reason, and
// nothing half-uploaded is taken for a dump.
func TestUBootUploadNeverArrives(t *testing.T) {
	k, _ := prepareUBoot(t)
	b := *k.Board
	b.Network.Host = "10.0.2.3" // QEMU's DNS forwarder: no HTTP there
	k.Board = &b
	res, err := k.Run(context.Background())
	var se *qemu.StageError
	if !errors.As(err, &se) || se.Stage != "vmcore saved" || !strings.Contains(se.Reason, "CAPTURE FAILED") || !strings.Contains(se.Reason, "http://10.0.2.3:") {
		t.Fatalf("err = %v, want stage \"vmcore saved\" failed with the HTTP target's reason", err)
	}
	if _, err := os.Stat(filepath.Join(res.Dir, capture.VmcoreName)); err == nil {
		t.Errorf("a vmcore is in %s", res.Dir)
	}
}

// TestUBootRealBoardFlow: the path a board on the desk takes, which has
// no QEMU section: kdumpkit opens console.device before powering on,
// powers on with the board file's own command and off with its own. The
// board here is the U-Boot board's QEMU started by that power command,
// daemonized, its serial port one end of a null-modem pair of ptys
// (socat), kdumpkit on the other end: real serial devices both.
func TestUBootRealBoardFlow(t *testing.T) {
	k, log := prepareUBoot(t)
	socat, err := exec.LookPath("socat")
	if err != nil {
		t.Skip("no socat: `go run mage.go test` installs it")
	}
	dir := t.TempDir()
	boardEnd, laptopEnd, pidFile := filepath.Join(dir, "board-tty"), filepath.Join(dir, "laptop-tty"), filepath.Join(dir, "qemu.pid")
	cable := exec.Command(socat, "pty,raw,echo=0,link="+boardEnd, "pty,raw,echo=0,link="+laptopEnd)
	if err := cable.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cable.Process.Kill(); cable.Wait() }()
	for range 100 {
		if _, err := os.Stat(laptopEnd); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	q := k.Board.QEMU
	on := []string{q.Binary, "-M", q.Machine, "-m", q.Memory.String(), "-smp", fmt.Sprint(q.SMP), "-cpu", q.CPU, "-bios", q.Firmware,
		"-display", "none", "-monitor", "none", "-no-reboot", "-chardev", "tty,id=uart,path=" + boardEnd, "-serial", "chardev:uart",
		"-daemonize", "-pidfile", pidFile}
	on = append(on, q.Args...)
	b := *k.Board
	b.QEMU = boards.QEMU{}
	b.Console.Device = laptopEnd
	b.Power = boards.Power{On: on, Off: []string{"pkill", "-KILL", "-F", pidFile}}
	k.Board = &b
	defer exec.Command("pkill", "-KILL", "-F", pidFile).Run()
	_, text := runAgreeing(t, k, log)
	for _, want := range []string{"power: on: " + q.Binary, "console on serial device " + laptopEnd, "tftp: sent kdumpkit/Image"} {
		if !strings.Contains(text, want) {
			t.Errorf("the run's log lacks %q", want)
		}
	}
}

// TestKdumpUBootFIT: the same board booted the way a U-Boot with only
// bootm needs: one FIT image made by mkimage (kernel at its load
// address, initramfs), fetched with one tftpboot and booted with bootm
// and the board's own device tree.
func TestKdumpUBootFIT(t *testing.T) {
	k, log := prepareUBoot(t)
	if _, err := exec.LookPath("mkimage"); err != nil {
		t.Skip("no mkimage: `go run mage.go test` installs u-boot-tools")
	}
	b := *k.Board
	u := *b.UBoot
	u.Boot, u.KernelAddr = "fit", "0x40480000"
	b.UBoot = &u
	k.Board, k.Format = &b, "kdump"
	_, text := runAgreeing(t, k, log)
	for _, want := range []string{`tftp: sent kdumpkit/image.itb (`, "u-boot: => bootm ${ramdisk_addr_r}#conf-1 ${ramdisk_addr_r}:ramdisk-1 ${fdtcontroladdr}"} {
		if !strings.Contains(text, want) {
			t.Errorf("the run's log lacks %q", want)
		}
	}
	if strings.Contains(text, "tftp: sent kdumpkit/Image") {
		t.Error("the kernel was served apart from the FIT")
	}
}
