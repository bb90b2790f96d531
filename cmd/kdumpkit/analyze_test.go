package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kdumpkit/kdumpkit/internal/testdump"
)

func reference(t *testing.T) (vmlinux, vmcore string) {
	d := testdump.Require(t)
	return d.Vmlinux, d.Vmcore
}

func TestAnalyzeUsage(t *testing.T) {
	var out, errw bytes.Buffer
	if err := runAnalyze([]string{"only-one"}, io.NopCloser(strings.NewReader("")), &out, &errw); err == nil {
		t.Error("one argument: no error")
	}
	if !strings.Contains(errw.String(), "VMLINUX VMCORE") {
		t.Errorf("usage not shown: %q", errw.String())
	}
	if err := runAnalyze([]string{"/nonexistent/vmlinux", "/nonexistent/vmcore"}, io.NopCloser(strings.NewReader("")), &out, &errw); err == nil || !strings.Contains(err.Error(), "/nonexistent/vmcore") {
		t.Errorf("missing files: err = %v, want one naming the vmcore", err)
	}
}

func TestAnalyzeBatch(t *testing.T) {
	vmlinux, vmcore := reference(t)
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	var out, errw bytes.Buffer
	if err := runAnalyze([]string{"-c", "sys; bt | grep -c sysrq", vmlinux, vmcore}, io.NopCloser(strings.NewReader("")), &out, &errw); err != nil {
		t.Fatalf("%v\n%s", err, errw.String())
	}
	if !strings.Contains(out.String(), `PANIC: "Kernel panic - not syncing: sysrq triggered crash"`) || !strings.Contains(out.String(), "\n3\n") {
		t.Errorf("-c output:\n%s", out.String())
	}
	file := filepath.Join(t.TempDir(), "cmds")
	if err := os.WriteFile(file, []byte("# comment\nps\nlog | tail -1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := runAnalyze([]string{"-i", file, vmlinux, vmcore}, io.NopCloser(strings.NewReader("")), &out, &errw); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "   PID    PPID") || !strings.HasSuffix(out.String(), "Bye!\n") {
		t.Errorf("-i output:\n%s", out.String())
	}
	out.Reset()
	if err := runAnalyze([]string{"--json", "-c", "ps", vmlinux, vmcore}, io.NopCloser(strings.NewReader("")), &out, &errw); err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	if err := json.Unmarshal(out.Bytes(), &rows); err != nil || len(rows) < 10 {
		t.Errorf("--json ps: %v, %d rows", err, len(rows))
	}
}

func TestAnalyzePrompt(t *testing.T) {
	vmlinux, vmcore := reference(t)
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	var out, errw bytes.Buffer
	in := io.NopCloser(strings.NewReader("set -p\nq\n"))
	if err := runAnalyze([]string{vmlinux, vmcore}, in, &out, &errw); err != nil {
		t.Fatal(err)
	}
	// The banner is sys, then the prompt answers set -p.
	if !strings.Contains(out.String(), "RELEASE:") || !strings.Contains(out.String(), "STATE: TASK_RUNNING (PANIC)") {
		t.Errorf("prompt session:\n%s", out.String())
	}
}

func TestAnalyzeWithoutVmlinux(t *testing.T) {
	_, vmcore := reference(t)
	var out, errw bytes.Buffer
	if err := runAnalyze([]string{"-c", "sys; sym sysrq_handle_crash", "-", vmcore}, io.NopCloser(strings.NewReader("")), &out, &errw); err != nil {
		t.Fatalf("%v\n%s", err, errw.String())
	}
	if !strings.Contains(out.String(), `PANIC: "Kernel panic - not syncing: sysrq triggered crash"`) || !strings.Contains(out.String(), "(t) sysrq_handle_crash") {
		t.Errorf("without vmlinux:\n%s", out.String())
	}
}

// TestAnalyzeOneErrorLine: a failing command's error is printed once, by
// the command loop, not a second time by main.
func TestAnalyzeOneErrorLine(t *testing.T) {
	vmlinux, vmcore := reference(t)
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	var out, errw bytes.Buffer
	code := run([]string{"analyze", "-c", "nosuchcommand", vmlinux, vmcore}, io.NopCloser(strings.NewReader("")), &out, &errw)
	if code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	if n := strings.Count(errw.String(), "nosuchcommand"); n != 1 {
		t.Errorf("the error is printed %d times:\n%s", n, errw.String())
	}
}

// TestAnalyzeNoPagerOffTerminal: a session whose output is not a
// terminal never pages.
func TestAnalyzeNoPagerOffTerminal(t *testing.T) {
	vmlinux, vmcore := reference(t)
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	var out, errw bytes.Buffer
	if err := runAnalyze([]string{vmlinux, vmcore}, io.NopCloser(strings.NewReader("set scroll\nq\n")), &out, &errw); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "scroll: off") {
		t.Errorf("scroll is on for a buffer:\n%s", out.String())
	}
	if isTerminal(&out) {
		t.Error("a buffer is a terminal")
	}
}
