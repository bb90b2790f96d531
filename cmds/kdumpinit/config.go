package main

import (
	"bufio"
	"bytes"
	"strings"
)

// config is the init's settings.
type config struct {
	Mode          string // normal, test or capture
	Crash         string // sysrq or an LKDTM type
	Targets       string // capture.ParseSpecs syntax
	CrashKernel   string // path of the crash kernel image in the initramfs
	CaptureInitrd string
	CrashCmdline  string // capture kernel's command line
}

func defaults() config {
	return config{Mode: "normal", Crash: "sysrq", Targets: "9p,disk",
		CrashKernel: "/kdump/kernel", CaptureInitrd: "/kdump/capture.cpio.gz",
		CrashCmdline: "console=ttyAMA0 maxcpus=1 reset_devices"}
}

// apply reads KEY=VALUE lines (the /kdump/config file) onto c.
func (c *config) apply(data []byte) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok || strings.HasPrefix(k, "#") {
			continue
		}
		c.set(k, v)
	}
}

func (c *config) set(k, v string) {
	switch k {
	case "mode":
		c.Mode = v
	case "crash":
		c.Crash = v
	case "targets":
		c.Targets = v
	case "crash_kernel":
		c.CrashKernel = v
	case "capture_initrd":
		c.CaptureInitrd = v
	case "crash_cmdline":
		c.CrashCmdline = v
	}
}

// applyCmdline reads kdumpkit.KEY=VALUE words of the kernel command line;
// a value may be double-quoted to hold spaces, as the kernel allows.
func (c *config) applyCmdline(cmdline string) {
	for _, w := range splitCmdline(cmdline) {
		k, v, ok := strings.Cut(w, "=")
		if ok && strings.HasPrefix(k, "kdumpkit.") {
			c.set(strings.TrimPrefix(k, "kdumpkit."), strings.Trim(v, `"`))
		}
	}
}

func splitCmdline(s string) []string {
	var out []string
	var cur strings.Builder
	quoted := false
	for _, r := range strings.TrimSpace(s) {
		switch {
		case r == '"':
			quoted = !quoted
			cur.WriteRune(r)
		case (r == ' ' || r == '\n' || r == '\t') && !quoted:
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteRune(r)
		}
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}
