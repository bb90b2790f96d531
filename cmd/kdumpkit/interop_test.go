package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/kdumpkit/kdumpkit/internal/crashoracle"
	"github.com/kdumpkit/kdumpkit/internal/testdump"
)

// TestCrashReadsOurCompressedDump: crash 8.0.2 (Debian's armhf build
// under qemu-arm-static) opens the level-31 kdump-compressed file
// dump-convert writes from the vexpress dump, sees it as a partial
// (filtered) dump, and agrees with the analyzer on it: sys's identity and
// panic lines, the whole log, every task's PID, PPID and command, and the
// panic task's bt header. Skips with the install recipe where crash is
// not installed.
func TestCrashReadsOurCompressedDump(t *testing.T) {
	d := testdump.Require(t)
	o := crashoracle.Require(t, "armhf")
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	dir := t.TempDir()
	conv := filepath.Join(dir, "vmcore.31")
	if err := runDumpConvert([]string{"-d", "31", d.Vmcore, conv}, nil, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	// crash 8.0.2 misreads struct pid on Debian's 6.1.172+ (see crashoracle.PidSizeFix).
	fixed := crashoracle.FixedVmlinux(t, d.Vmlinux)
	cmds := []string{"sys", "log", "ps", "bt"}
	theirs, preamble, err := o.Run(context.Background(), fixed, conv, cmds)
	if err != nil {
		t.Fatalf("%v\n%s", err, preamble)
	}
	ours := map[string]string{}
	for _, c := range cmds {
		var out, errw bytes.Buffer
		if err := runAnalyze([]string{"-c", c, d.Vmlinux, conv}, io.NopCloser(strings.NewReader("")), &out, &errw); err != nil {
			t.Fatalf("%s: %v\n%s", c, err, errw.String())
		}
		ours[c] = out.String()
	}
	crashSys := theirs[0]
	if !regexp.MustCompile(`DUMPFILE: .*vmcore\.31\s+\[PARTIAL DUMP\]`).MatchString(crashSys) {
		t.Errorf("crash does not see a partial kdump-compressed dump:\n%s", crashSys)
	}
	for _, key := range []string{"RELEASE", "VERSION", "MACHINE", "PANIC", "NODENAME", "CPUS"} {
		if a, b := field(ours["sys"], key), field(crashSys, key); a == "" || a != b {
			t.Errorf("sys %s: ours %q, crash %q", key, a, b)
		}
	}
	// crash prints each byte outside ASCII as '.': "©" is "..".
	if a, b := strings.TrimSpace(dots(ours["log"])), strings.TrimSpace(theirs[1]); a != b || strings.Count(a, "\n") < 100 {
		t.Errorf("log differs (ours %d lines, crash %d):\n%s", strings.Count(a, "\n"), strings.Count(b, "\n"), diffLines(a, b))
	}
	if a, b := tasks(ours["ps"]), tasks(theirs[2]); len(a) < 20 || strings.Join(a, "\n") != strings.Join(b, "\n") {
		t.Errorf("ps: ours %d tasks, crash %d:\n%s", len(a), len(b), diffLines(strings.Join(a, "\n"), strings.Join(b, "\n")))
	}
	if a, b := firstLine(ours["bt"]), firstLine(theirs[3]); a == "" || a != b {
		t.Errorf("bt header: ours %q, crash %q", a, b)
	}
}

func dots(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 0x80 {
			b[i] = '.'
		}
	}
	return string(b)
}

func field(sys, key string) string {
	m := regexp.MustCompile(`(?m)^\s*` + key + `: (.*)$`).FindStringSubmatch(sys)
	if m == nil {
		return ""
	}
	return strings.TrimSpace(m[1])
}

// tasks is ps's PID, PPID and COMM columns, sorted.
func tasks(ps string) []string {
	var out []string
	for _, l := range strings.Split(ps, "\n") {
		f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(l), ">"))
		if len(f) < 9 || f[0] == "PID" {
			continue
		}
		out = append(out, f[0]+" "+f[1]+" "+f[len(f)-1])
	}
	sort.Strings(out)
	return out
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}
