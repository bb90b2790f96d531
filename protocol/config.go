package protocol

import (
	"bufio"
	"bytes"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// Modes of the board's init (kdumpkit.mode=).
const (
	ModeNormal  = "normal"  // load the crash kernel, then a shell
	ModeTest    = "test"    // load, print the ground truth, crash
	ModeCapture = "capture" // in the capture kernel: save the vmcore, power off
)

// Kexec methods (kdumpkit.kexec=): the system call the init's kexec
// loads the crash kernel with, as kexec-tools' -a, -s and -c choose it.
const (
	KexecAuto = "auto" // kexec_file_load, then kexec_load when the kernel cannot
	KexecFile = "file" // kexec_file_load only
	KexecLoad = "load" // kexec_load only, with the segments kdumpkit builds
)

// Dump formats the capture tool writes (kdumpkit.format=).
const (
	FormatELF   = "elf"   // /proc/vmcore as it is: every byte of RAM
	FormatKdump = "kdump" // makedumpfile's kdump-compressed, dump level 31, zstd: free, cache and user pages left out
)

// ParseFormat reads a kdumpkit.format= value: elf, kdump (dump level 31)
// or kdump:LEVEL with a makedumpfile dump level from 0 to 31. The level
// is -1 for elf.
func ParseFormat(v string) (kind string, level int, err error) {
	switch {
	case v == FormatELF:
		return FormatELF, -1, nil
	case v == FormatKdump:
		return FormatKdump, 31, nil
	case strings.HasPrefix(v, FormatKdump+":"):
		n, err := strconv.Atoi(strings.TrimPrefix(v, FormatKdump+":"))
		if err == nil && n >= 0 && n <= 31 {
			return FormatKdump, n, nil
		}
	}
	return "", 0, fmt.Errorf("want %s, %s or %s:LEVEL (a dump level from 0 to 31)", FormatELF, FormatKdump, FormatKdump)
}

// Config is the board's init settings: the /kdump/config file the rootfs
// build writes from the board file, then kdumpkit.KEY=VALUE kernel
// parameters over it.
type Config struct {
	Mode          string // ModeNormal, ModeTest or ModeCapture
	Crash         string // sysrq or an LKDTM type
	Targets       string // protocol.ParseSpecs syntax
	CrashKernel   string // path of the crash kernel image in the initramfs
	CaptureInitrd string
	CrashCmdline  string // capture kernel's command line
	Kexec         string // KexecAuto, KexecFile or KexecLoad
	Format        string // FormatELF, FormatKdump or kdump:LEVEL (ParseFormat)
}

// DefaultConfig is what the init uses when neither the file nor the
// command line says otherwise.
func DefaultConfig() Config {
	return Config{Mode: ModeNormal, Crash: "sysrq", Targets: "9p,disk",
		CrashKernel: "/kdump/kernel", CaptureInitrd: "/kdump/capture.cpio.gz",
		CrashCmdline: "console=ttyAMA0 maxcpus=1 reset_devices", Kexec: KexecAuto, Format: FormatELF}
}

// Apply reads KEY=VALUE lines (the /kdump/config file) onto c. A line it
// refuses leaves the setting as it was and comes back as an error naming
// the line.
func (c *Config) Apply(data []byte) []error {
	var errs []error
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			errs = append(errs, fmt.Errorf("line %d: %q is not KEY=VALUE", n, line))
			continue
		}
		if err := c.set(k, v); err != nil {
			errs = append(errs, fmt.Errorf("line %d: %w", n, err))
		}
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, err)
	}
	return errs
}

// ApplyCmdline reads kdumpkit.KEY=VALUE words of the kernel command line;
// a value may be double-quoted to hold spaces, as the kernel allows.
func (c *Config) ApplyCmdline(cmdline string) []error {
	var errs []error
	for _, w := range splitCmdline(cmdline) {
		k, v, ok := strings.Cut(w, "=")
		if !ok || !strings.HasPrefix(k, "kdumpkit.") {
			continue
		}
		if err := c.set(strings.TrimPrefix(k, "kdumpkit."), unquote(v)); err != nil {
			errs = append(errs, fmt.Errorf("kdumpkit.%w", err))
		}
	}
	return errs
}

// unquote drops the double quotes the kernel's parser drops around a
// value (next_arg in lib/cmdline.c).
func unquote(v string) string {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		return v[1 : len(v)-1]
	}
	return v
}

// set checks one setting before taking it: each reaches a command line
// (kexec's, the capture kernel's) or a kernel file, so a value outside
// its set is refused rather than passed on.
func (c *Config) set(k, v string) error {
	var err error
	switch k {
	case "mode":
		err = oneOf(v, ModeNormal, ModeTest, ModeCapture)
		c.Mode = keep(c.Mode, v, err)
	case "crash":
		err = crashType(v)
		c.Crash = keep(c.Crash, v, err)
	case "targets":
		err = targets(v)
		c.Targets = keep(c.Targets, v, err)
	case "crash_kernel":
		err = absPath(v)
		c.CrashKernel = keep(c.CrashKernel, v, err)
	case "capture_initrd":
		err = absPath(v)
		c.CaptureInitrd = keep(c.CaptureInitrd, v, err)
	case "crash_cmdline":
		err = cmdlinePart(v)
		c.CrashCmdline = keep(c.CrashCmdline, v, err)
	case "kexec":
		err = oneOf(v, KexecAuto, KexecFile, KexecLoad)
		c.Kexec = keep(c.Kexec, v, err)
	case "format":
		_, _, err = ParseFormat(v)
		c.Format = keep(c.Format, v, err)
	default:
		return fmt.Errorf("%s: unknown setting (mode, crash, targets, crash_kernel, capture_initrd, crash_cmdline, kexec, format)", k)
	}
	if err != nil {
		return fmt.Errorf("%s=%q: %w", k, v, err)
	}
	return nil
}

func keep(old, v string, err error) string {
	if err != nil {
		return old
	}
	return v
}

func oneOf(v string, allowed ...string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return fmt.Errorf("want one of %s", strings.Join(allowed, ", "))
}

// crashType is sysrq or an LKDTM crash type, a name from
// drivers/misc/lkdtm/core.c: capital letters, digits and _.
func crashType(v string) error {
	if v == "sysrq" {
		return nil
	}
	for _, r := range v {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') && r != '_' {
			return fmt.Errorf("want sysrq or an LKDTM crash type (A-Z, 0-9, _)")
		}
	}
	if v == "" {
		return fmt.Errorf("empty")
	}
	return nil
}

// targets goes unquoted into the capture kernel's command line
// (kdumpkit.targets=), so it may hold no space or quote, which would add
// kernel parameters of its own.
func targets(v string) error {
	if strings.ContainsAny(v, " \t\"") {
		return fmt.Errorf("no spaces or quotes in a target list")
	}
	if err := printable(v); err != nil {
		return err
	}
	_, err := ParseSpecs(v)
	return err
}

func absPath(v string) error {
	if !filepath.IsAbs(v) || filepath.Clean(v) != v {
		return fmt.Errorf("want a clean absolute path")
	}
	return printable(v)
}

// cmdlinePart is a piece of the capture kernel's command line, before
// what kdumpinit appends (kdumpkit.mode=capture…): an open quote would
// swallow that into its value.
func cmdlinePart(v string) error {
	if strings.Count(v, `"`)%2 != 0 {
		return fmt.Errorf("unbalanced double quote")
	}
	return printable(v)
}

// printable refuses control characters: a kernel command line and a path
// on the console are one line of text.
func printable(v string) error {
	for _, r := range v {
		if r < ' ' || r == 0x7f {
			return fmt.Errorf("control character %q", r)
		}
	}
	return nil
}

// splitCmdline splits a kernel command line into words, byte by byte as
// the kernel does: it is not UTF-8, and a byte that is not must come
// through as it was.
func splitCmdline(s string) []string {
	var out []string
	var cur strings.Builder
	quoted := false
	s = strings.TrimSpace(s)
	for i := 0; i < len(s); i++ {
		b := s[i]
		switch {
		case b == '"':
			quoted = !quoted
			cur.WriteByte(b)
		case (b == ' ' || b == '\n' || b == '\t') && !quoted:
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteByte(b)
		}
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

// File is the /kdump/config text for c's board settings (the capture
// kernel's command line, the dump targets and, when set, the kexec
// method); source names the board file in a comment.
func (c Config) File(source string) string {
	s := fmt.Sprintf("# from %s\ncrash_cmdline=%s\ntargets=%s\n", source, c.CrashCmdline, c.Targets)
	if c.Kexec != "" {
		s += "kexec=" + c.Kexec + "\n"
	}
	return s
}

// CaptureCmdline is the capture kernel's command line: the board's, then
// the parameters that make the init capture to c's targets.
func (c Config) CaptureCmdline() string {
	s := c.CrashCmdline + " kdumpkit.mode=" + ModeCapture + " kdumpkit.targets=" + c.Targets
	if c.Format != "" {
		s += " kdumpkit.format=" + c.Format
	}
	return s
}

// TestParams are the kernel parameters of a kdump test boot: load, print
// the ground truth and crash with crash (sysrq or an LKDTM type); targets
// kexec and format, when not empty, replace the board's.
func TestParams(crash, targets, kexec, format string) string {
	p := "kdumpkit.mode=" + ModeTest + " kdumpkit.crash=" + crash
	if targets != "" {
		p += " kdumpkit.targets=" + targets
	}
	if kexec != "" {
		p += " kdumpkit.kexec=" + kexec
	}
	if format != "" {
		p += " kdumpkit.format=" + format
	}
	return p
}
