// Package uboot drives a board's U-Boot over its serial console the way an
// engineer at the prompt would: stop the autoboot, bring the network up,
// tftpboot the kernel, initramfs and device tree from kdumpkit's TFTP
// server, set bootargs and boot. Each step's output is checked (U-Boot's
// commands print their failures rather than exit with them on every
// shell), so a missing file or an unreachable server stops the run at
// that step with the reason and the console's last lines.
package uboot

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/kdumpkit/kdumpkit/boards"
	"github.com/kdumpkit/kdumpkit/console"
	"github.com/kdumpkit/kdumpkit/qemu"
)

// Names the TFTP server serves the boot files under.
const (
	KernelName = "kdumpkit/Image"
	InitrdName = "kdumpkit/initramfs"
	DTBName    = "kdumpkit/board.dtb"
	FITName    = "kdumpkit/image.itb" // uboot.boot = "fit": all of them in one
)

// Files are the sizes of the files served, to check each transfer.
type Files struct {
	Kernel, Initrd, DTB int64 // DTB 0: the board's own device tree
	FIT                 int64 // uboot.boot = "fit": only this one is served
}

// Session is one boot through U-Boot.
type Session struct {
	C       *console.Console
	Board   *boards.Board
	Files   Files
	Cmdline string    // the kernel command line (bootargs)
	Log     io.Writer // one line per step
	LogPath string    // the console log, for errors
	// Reached is told each step as it completes.
	Reached func(qemu.Reached)
	// Missed, when set, names the files the TFTP server was asked for
	// and does not serve, so a failed transfer's error can name them.
	Missed func() []string
	// Served names what the TFTP server serves, for the same message.
	Served []string

	prompt *regexp.Regexp // U-Boot's prompt at the end of its output
}

// failures are U-Boot messages that mean a command failed, and what to do.
var failures = []struct {
	re    *regexp.Regexp
	cause string
}{
	{regexp.MustCompile(`TFTP error: 'File not found'.*|TFTP error: .*\(1\)`), "the TFTP server does not have the file U-Boot asked for"},
	{regexp.MustCompile(`TFTP error: .*`), "the TFTP server refused the transfer"},
	{regexp.MustCompile(`Retry count exceeded|ARP Retry count exceeded`), "U-Boot cannot reach the TFTP server: check network.tftp_host, the cable and that nothing blocks UDP port 69 on the laptop"},
	{regexp.MustCompile(`DHCP client bound`), ""}, // success, listed so it is not taken for the next
	{regexp.MustCompile(`(?i)no ethernet found|No ethernet found`), "U-Boot found no network device: is the Ethernet driver in this U-Boot, and the cable in?"},
	{regexp.MustCompile(`Unknown command '([^']*)'`), "this U-Boot lacks a command kdumpkit needs"},
	{regexp.MustCompile(`Bad Linux ARM64 Image magic|Bad Linux ARM zImage magic`), "the image is not what the boot command expects: uboot.boot must be booti for arm64 Image, bootz for an ARM zImage"},
	{regexp.MustCompile(`Wrong Ramdisk Image Format|Ramdisk image is corrupt`), "U-Boot did not take the initramfs: the ramdisk address or size is wrong"},
	{regexp.MustCompile(`ERROR: .*|## Error.*`), "U-Boot reported an error"},
}

var tftpTimeouts = regexp.MustCompile(`(T ){3,}`)

// Boot stops the autoboot, loads the files and starts the kernel; it
// returns when U-Boot says it is starting the kernel.
func (s *Session) Boot() error {
	u := s.Board.UBoot
	s.prompt = regexp.MustCompile(`(?:^|\n)` + regexp.QuoteMeta(u.Prompt) + `$`)
	for _, step := range []func() error{s.stopAutoboot, s.network, s.load, s.start} {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// stopAutoboot waits for the prompt, pressing Ctrl-C: any key stops the
// autoboot countdown, and Ctrl-C also stops a boot command already
// running (a distro boot's DHCP, USB scan) and clears the prompt's line.
func (s *Session) stopAutoboot() error {
	u := s.Board.UBoot
	start := time.Now()
	_, err := s.C.Poll(s.prompt, u.PromptTimeout.D(), 250*time.Millisecond, func() error { return s.C.Send("\x03") })
	if err != nil {
		return s.fail("u-boot prompt", err, "the board never reached U-Boot's prompt: is it powered, is console.device the right port at console.baud, and does U-Boot print uboot.prompt ("+strconv.Quote(u.Prompt)+")?")
	}
	// Let the last Ctrl-C's prompt arrive before typing.
	s.C.Expect(s.prompt, 300*time.Millisecond)
	s.reached("u-boot prompt", strings.TrimSpace(u.Prompt), time.Since(start))
	return nil
}

// network brings U-Boot's network up and points it at the TFTP server.
func (s *Session) network() error {
	n := s.Board.Network
	steps := []string{"setenv autoload no"}
	if n.BoardIP == "dhcp" {
		steps = append(steps, "dhcp")
	} else {
		steps = append(steps, "setenv ipaddr "+n.BoardIP, "setenv netmask "+n.Netmask)
		if n.Gateway != "" {
			steps = append(steps, "setenv gatewayip "+n.Gateway)
		}
	}
	steps = append(steps, "setenv serverip "+n.TFTPHost)
	if n.TFTPPort != 69 {
		steps = append(steps, fmt.Sprintf("setenv tftpdstp %d", n.TFTPPort))
	}
	for _, c := range steps {
		if _, err := s.run(c, s.Board.UBoot.Timeout.D()); err != nil {
			return s.fail("u-boot network", err, "")
		}
	}
	return nil
}

// load fetches each file with tftpboot, checking the size U-Boot got.
func (s *Session) load() error {
	u := s.Board.UBoot
	type file struct {
		addr, name string
		size       int64
	}
	loads := []file{{u.RamdiskAddr, InitrdName, s.Files.Initrd}, {u.KernelAddr, KernelName, s.Files.Kernel}}
	if u.Boot == "fit" {
		// One image: U-Boot moves the kernel to the load address mkimage
		// wrote into it, and takes the initramfs where it lies.
		loads = []file{{u.RamdiskAddr, FITName, s.Files.FIT}}
	} else if u.FDT == "tftp" {
		loads = append(loads, file{u.FDTAddr, DTBName, s.Files.DTB})
	}
	for _, l := range loads {
		t := time.Now()
		out, err := s.run(fmt.Sprintf("tftpboot %s %s", l.addr, l.name), u.Timeout.D())
		if err != nil {
			return s.fail("tftp "+l.name, err, "")
		}
		if got := transferred(out); got != l.size {
			return s.fail("tftp "+l.name, fmt.Errorf("U-Boot loaded %d bytes of %d", got, l.size), "the transfer was cut short, or the load address overlaps U-Boot itself")
		}
		s.reached("tftp "+l.name, fmt.Sprintf("%d bytes", l.size), time.Since(t))
		if l.name == InitrdName {
			// The initramfs size for the boot command; filesize is
			// overwritten by the next transfer.
			if _, err := s.run("setenv kdumpkit_rdsize ${filesize}", u.Timeout.D()); err != nil {
				return s.fail("tftp "+l.name, err, "")
			}
		}
	}
	return nil
}

// start sets bootargs and boots, returning once U-Boot says it starts
// the kernel.
func (s *Session) start() error {
	u := s.Board.UBoot
	if _, err := s.run("setenv bootargs '"+s.Cmdline+"'", u.Timeout.D()); err != nil {
		return s.fail("u-boot bootargs", err, "")
	}
	t := time.Now()
	boot := fmt.Sprintf("%s %s %s:${kdumpkit_rdsize} %s", u.Boot, u.KernelAddr, u.RamdiskAddr, u.FDTAddr)
	if u.Boot == "fit" {
		// The configuration by name: a U-Boot that picks the best match
		// for its own device tree finds none in a FIT without one.
		boot = fmt.Sprintf("bootm %s#%s", u.RamdiskAddr, fitConfig)
		if u.FDT == "board" {
			boot += fmt.Sprintf(" %s:%s %s", u.RamdiskAddr, fitRamdisk, u.FDTAddr)
		}
	}
	fmt.Fprintf(s.Log, "u-boot: %s%s\n", u.Prompt, boot)
	if err := s.C.Send(boot + "\n"); err != nil {
		return s.fail("kernel started", err, "")
	}
	starting := regexp.MustCompile(`Starting kernel \.\.\.`)
	out, err := s.C.Expect(regexp.MustCompile(starting.String()+`|`+regexp.QuoteMeta(u.Prompt)+`$`), u.Timeout.D())
	if err == nil && !starting.MatchString(out) {
		err = fmt.Errorf("%s returned to the prompt%s", u.Boot, failure(out))
	}
	if err != nil {
		return s.fail("kernel started", err, causeOf(out))
	}
	s.reached("kernel started", "Starting kernel ...", time.Since(t))
	return nil
}

// run types one command and waits for the prompt after it; U-Boot's
// failure messages in its output make it an error.
func (s *Session) run(cmd string, timeout time.Duration) (string, error) {
	fmt.Fprintf(s.Log, "u-boot: %s%s\n", s.Board.UBoot.Prompt, cmd)
	if err := s.C.Send(cmd + "\n"); err != nil {
		return "", err
	}
	out, err := s.C.Expect(s.prompt, timeout)
	if err != nil {
		if tftpTimeouts.MatchString(out) {
			return out, fmt.Errorf("%q: TFTP timed out (%w)", cmd, err)
		}
		return out, fmt.Errorf("%q: %w", cmd, err)
	}
	if f := failure(out); f != "" {
		return out, fmt.Errorf("%q failed%s", cmd, f)
	}
	return out, nil
}

// failure is ": LINE" for the first failure message in out, else "".
func failure(out string) string {
	for _, f := range failures {
		if f.cause == "" {
			continue
		}
		if m := f.re.FindString(out); m != "" {
			return ": " + strings.TrimSpace(m)
		}
	}
	return ""
}

func causeOf(out string) string {
	for _, f := range failures {
		if f.cause != "" && f.re.MatchString(out) {
			return f.cause
		}
	}
	if tftpTimeouts.MatchString(out) {
		return "U-Boot sends but hears no TFTP reply: check network.tftp_host (the laptop as U-Boot reaches it) and that kdumpkit's TFTP server is reachable on UDP " + strconv.Itoa(69)
	}
	return ""
}

var bytesRe = regexp.MustCompile(`Bytes transferred = ([0-9]+)`)

// transferred is the size U-Boot reports for a tftpboot, -1 if none.
func transferred(out string) int64 {
	m := bytesRe.FindStringSubmatch(out)
	if m == nil {
		return -1
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return -1
	}
	return n
}

func (s *Session) reached(stage, line string, d time.Duration) {
	if s.Reached != nil {
		s.Reached(qemu.Reached{Stage: stage, Line: line, Duration: d})
	}
}

// fail is a stage error with the console's last lines. cause, if empty,
// is read from what the console showed.
func (s *Session) fail(stage string, err error, cause string) error {
	tail := s.C.Tail(30)
	if cause == "" {
		cause = causeOf(strings.Join(tail, "\n"))
	}
	if s.Missed != nil {
		if m := s.Missed(); len(m) > 0 {
			cause = fmt.Sprintf("U-Boot asked the TFTP server for %q, which kdumpkit does not serve (it serves %s)", m[0], strings.Join(s.Served, ", "))
		}
	}
	if gone := s.C.Gone(); gone != nil && !errors.Is(err, gone) {
		cause = gone.Error()
	}
	return &qemu.StageError{Stage: stage, Reason: err.Error(), Cause: cause, Tail: tail, LogPath: s.LogPath}
}
