package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDumpConvertKeepsTheAnswers converts the vexpress dump at level 31
// (and as a flattened stream, reassembled) and runs the analyzer on both
// the ELF and the converted file: sys, ps, log and the panic task's bt
// must agree line for line but the DUMPFILE line.
func TestDumpConvertKeepsTheAnswers(t *testing.T) {
	vmlinux, vmcore := reference(t)
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	dir := t.TempDir()
	conv, flat, back := filepath.Join(dir, "vmcore.31"), filepath.Join(dir, "vmcore.flat"), filepath.Join(dir, "vmcore.back")
	var out, errw bytes.Buffer
	if err := runDumpConvert([]string{"-d", "31", vmcore, conv}, nil, &out, &errw); err != nil {
		t.Fatalf("%v\n%s", err, errw.String())
	}
	t.Log(strings.TrimSpace(out.String()))
	if !strings.Contains(out.String(), "level 31, zstd") {
		t.Errorf("dump-convert said %q", out.String())
	}
	if err := runDumpConvert([]string{"-F", vmcore, flat}, nil, &out, &errw); err != nil {
		t.Fatal(err)
	}
	if err := runReassemble([]string{flat, back}, nil, &out, &errw); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(conv)
	b, _ := os.ReadFile(back)
	if !bytes.Equal(a, b) {
		t.Errorf("the reassembled stream (%d bytes) differs from the seekable file (%d)", len(b), len(a))
	}
	const cmds = "sys; ps; log; bt"
	answers := map[string]string{}
	for _, f := range []string{vmcore, conv, flat} {
		var o, e bytes.Buffer
		if err := runAnalyze([]string{"-c", cmds, vmlinux, f}, io.NopCloser(strings.NewReader("")), &o, &e); err != nil {
			t.Fatalf("%s: %v\n%s", f, err, e.String())
		}
		answers[f] = regexp.MustCompile(`(?m)^\s*DUMPFILE: .*$`).ReplaceAllString(o.String(), "DUMPFILE")
		if e.Len() > 0 {
			t.Logf("%s: stderr %s", f, e.String())
		}
	}
	want := answers[vmcore]
	if !strings.Contains(want, "PANIC:") || !strings.Contains(want, "sysrq_handle_crash") || strings.Count(want, "\n") < 100 {
		t.Fatalf("the ELF's answers look wrong:\n%s", want)
	}
	for _, f := range []string{conv, flat} {
		if got := answers[f]; got != want {
			t.Errorf("%s answers differ from the ELF's:\n%s", f, diffLines(want, got))
		}
	}
}

func diffLines(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var d []string
	for i := 0; i < max(len(al), len(bl)) && len(d) < 20; i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			d = append(d, "- "+x, "+ "+y)
		}
	}
	return strings.Join(d, "\n")
}
