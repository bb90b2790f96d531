package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/kdumpkit/kdumpkit/protocol"
	"golang.org/x/sys/unix"
)

func run() error {
	c := protocol.DefaultConfig()
	if data, err := os.ReadFile("/kdump/config"); err == nil {
		report(os.Stdout, "/kdump/config", c.Apply(data))
	}
	cmdline, _ := os.ReadFile("/proc/cmdline")
	report(os.Stdout, "/proc/cmdline", c.ApplyCmdline(string(cmdline)))
	if _, err := os.Stat("/proc/vmcore"); err == nil {
		return captureAndPowerOff(c)
	}
	if c.Mode == protocol.ModeCapture {
		// Booted as the capture kernel, yet the old memory is not exported.
		fmt.Printf("%s no /proc/vmcore in the capture kernel: CONFIG_PROC_VMCORE or CONFIG_CRASH_DUMP is off\n", protocol.MarkerCaptureFailed)
		return powerOff()
	}
	how, err := loadCrashKernel(c)
	if err != nil {
		fmt.Printf("%s %v\n", protocol.MarkerLoadFailed, err)
		return err
	}
	fmt.Printf("%s crash kernel %s\n", protocol.MarkerReady, how)
	if c.Mode != protocol.ModeTest {
		shell()
		return nil
	}
	printGroundTruth()
	fmt.Printf("%s %s\n", protocol.MarkerCrashing, c.Crash)
	cmd := exec.Command(self(), "-trigger", c.Crash)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	err = cmd.Run()
	// Only a crash that did not happen gets here.
	return fmt.Errorf("the %s crash returned (%v): the kernel did not panic", c.Crash, err)
}

// shell gives the console to a shell and, when it exits, keeps init
// alive: u-root's init ends, and the kernel panics ("Attempted to kill
// init"), when its uinit returns.
func shell() {
	for _, sh := range []string{"/bin/sh", "/bbin/gosh"} {
		if _, err := os.Stat(sh); err != nil {
			continue
		}
		cmd := exec.Command(sh)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
		cmd.Run()
		break
	}
	fmt.Println("kdumpinit: the shell exited; the board stays up (QEMU: Ctrl-A X quits)")
	select {}
}

// self is this program as the busybox knows it, so the child's comm is
// "kdumpinit".
func self() string {
	if _, err := os.Stat("/bbin/kdumpinit"); err == nil {
		return "/bbin/kdumpinit"
	}
	exe, _ := os.Executable()
	return exe
}

// kexecMethodFlags are kexec-tools' flags for each kdumpkit.kexec= value.
var kexecMethodFlags = map[string]string{protocol.KexecAuto: "-a", protocol.KexecFile: "-s", protocol.KexecLoad: "-c"}

// loadCrashKernel runs our kexec the way kexec-tools users know it and
// returns how it loaded ("loaded with kexec_load …", kexec's own words).
func loadCrashKernel(c protocol.Config) (string, error) {
	args := []string{"-p", c.CrashKernel, "--initrd=" + c.CaptureInitrd,
		"--append=" + c.CaptureCmdline(), kexecMethodFlags[c.Kexec]}
	if _, err := os.Stat("/sys/firmware/fdt"); err == nil {
		args = append(args, "--dtb=/sys/firmware/fdt")
	}
	kexec := "/bbin/kexec"
	out, err := exec.Command(kexec, args...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s %s: %v: %s", kexec, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	if b, _ := os.ReadFile("/sys/kernel/kexec_crash_loaded"); strings.TrimSpace(string(b)) != "1" {
		return "", errors.New("kexec returned but /sys/kernel/kexec_crash_loaded is not 1")
	}
	return howLoaded(string(out), c.Kexec), nil
}

// howLoaded picks kexec's "kexec: loaded with SYSCALL …" line out of its
// output and says which setting chose it; other lines are printed.
func howLoaded(out, method string) string {
	how := "loaded"
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if rest, ok := strings.CutPrefix(l, "kexec: loaded with "); ok {
			how = "loaded with " + rest
		} else if l != "" {
			fmt.Printf("kdumpinit: %s\n", l)
		}
	}
	return how + " (kdumpkit.kexec=" + method + ")"
}

// printGroundTruth prints what the host checks the analyzer against:
// the release, every task (PID, PPID, state, comm) and the log tail.
func printGroundTruth() {
	fmt.Println(protocol.MarkerTruthBegin)
	var u unix.Utsname
	unix.Uname(&u)
	fmt.Printf("release %s\n", unix.ByteSliceToString(u.Release[:]))
	if text, ok := kernelText(); ok {
		fmt.Printf("text %#x\n", text)
	}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		stat, err := os.ReadFile(d + "/stat")
		if err != nil {
			continue
		}
		if pid, ppid, state, comm, ok := parseStat(string(stat)); ok {
			fmt.Printf("task %d %d %s %s\n", pid, ppid, state, comm)
		}
	}
	buf := make([]byte, 1<<20)
	if n, err := unix.Klogctl(unix.SYSLOG_ACTION_READ_ALL, buf); err == nil {
		lines := strings.Split(strings.TrimSpace(string(buf[:n])), "\n")
		for _, l := range lines[max(0, len(lines)-5):] {
			fmt.Printf("log %s\n", l)
		}
	}
	fmt.Println(protocol.MarkerTruthEnd)
}

// kernelText is where this kernel's _text is (/proc/kallsyms, readable by
// root): against the vmlinux's link address it gives the KASLR offset the
// host checks the analyzer's against, and the capture kernel's shows that
// the second boot was randomized afresh.
func kernelText() (uint64, bool) {
	data, err := os.ReadFile("/proc/kallsyms")
	if err != nil {
		return 0, false
	}
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Fields(l)
		if len(f) == 3 && f[2] == "_text" {
			v, err := strconv.ParseUint(f[0], 16, 64)
			return v, err == nil && v != 0
		}
	}
	return 0, false
}

// parseStat reads pid, ppid, state and comm from /proc/PID/stat; comm is
// in parentheses and may hold spaces.
func parseStat(s string) (pid, ppid int, state, comm string, ok bool) {
	open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || close < open {
		return 0, 0, "", "", false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(s[:open]))
	rest := strings.Fields(s[close+1:])
	if err != nil || len(rest) < 2 {
		return 0, 0, "", "", false
	}
	ppid, err = strconv.Atoi(rest[1])
	return pid, ppid, rest[0], s[open+1 : close], err == nil
}

// trigger crashes the kernel: sysrq c, or an LKDTM crash type with the
// sysctl that turns it into a panic.
func trigger(kind string) error {
	if kind == "sysrq" {
		return os.WriteFile("/proc/sysrq-trigger", []byte("c"), 0)
	}
	sysctl := map[string]string{"WARNING": "panic_on_warn", "SOFTLOCKUP": "softlockup_panic", "HARDLOCKUP": "hardlockup_panic"}
	knob := "panic_on_oops"
	if k, ok := sysctl[kind]; ok {
		knob = k
	}
	if err := os.WriteFile("/proc/sys/kernel/"+knob, []byte("1"), 0); err != nil {
		return err
	}
	if _, err := os.Stat("/sys/kernel/debug/provoke-crash"); err != nil {
		if err := unix.Mount("debugfs", "/sys/kernel/debug", "debugfs", 0, ""); err != nil && !errors.Is(err, unix.EBUSY) {
			return fmt.Errorf("mount debugfs: %w", err)
		}
	}
	err := os.WriteFile("/sys/kernel/debug/provoke-crash/DIRECT", []byte(kind), 0)
	time.Sleep(30 * time.Second) // SOFTLOCKUP and friends take the watchdog's time
	return err
}

// captureAndPowerOff saves the dump and powers off, whatever happened:
// the host reads the outcome from the console markers.
func captureAndPowerOff(c protocol.Config) error {
	if text, ok := kernelText(); ok {
		fmt.Printf("%s text=%#x\n", protocol.MarkerCaptureUp, text)
	} else {
		fmt.Println(protocol.MarkerCaptureUp)
	}
	args := []string{"-targets", c.Targets}
	if kind, level, err := protocol.ParseFormat(c.Format); err == nil {
		args = append(args, "-format", kind)
		if kind == protocol.FormatKdump {
			args = append(args, "-level", fmt.Sprint(level))
		}
	}
	cmd := exec.Command("/bbin/capture", args...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stdout
	if err := cmd.Run(); err != nil {
		fmt.Printf("kdumpinit: capture: %v\n", err)
	}
	return powerOff()
}

// powerOff says so on the console and powers off. The marker is the last
// line the host waits for: the console tty is drained first (tcdrain),
// since the kernel's power-off does not wait for user output still in
// the tty's buffer, and the line was lost on arm64 that way.
func powerOff() error {
	fmt.Println(protocol.MarkerPowerOff)
	unix.Sync()
	unix.IoctlSetInt(int(os.Stdout.Fd()), unix.TCSBRK, 1)
	return unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF)
}
