package commands

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestPrintExpressions: p, px and pd on the real dump, in gdb's shapes as
// crash 8.0.2 printed them on the same dump.
func TestPrintExpressions(t *testing.T) {
	s, dir := openReference(t)
	con, err := os.ReadFile(filepath.Join(dir, "console.log"))
	if err != nil {
		t.Fatal(err)
	}
	banner := regexp.MustCompile(`Linux version [^\r\n]*`).Find(con)
	if banner == nil {
		t.Fatal("console.log has no Linux version line")
	}
	out := run(t, s, "p linux_banner")
	if want := `linux_banner = $1 = "` + strings.TrimSpace(string(banner)) + `\n"` + "\n"; out != want {
		t.Errorf("p linux_banner = %q\nwant %q", out, want)
	}
	for cmd, want := range map[string]string{
		"p init_task.comm":                 `$2 = "swapper/0\000\000\000\000\000\000"` + "\n",
		"p &init_task":                     "$3 = (struct task_struct *) 0x80d08040 <init_task>\n",
		"p init_task.pid":                  "$4 = 0\n",
		"p init_task.comm[1]":              "$5 = 119 'w'\n",
		"px init_task.pid":                 "$6 = 0x0\n",
		"p (struct list_head *)0x80d0849c": "$7 = (struct list_head *) 0x80d0849c <init_task+1116>\n",
		"p sizeof(struct list_head)":       "$8 = 8\n",
		"p &init_task.tasks == 0x80d0849c": "$9 = 1\n",
	} {
		if !strings.HasPrefix(want, "$") {
			continue
		}
		// Each answer takes the next history number: run alone in a
		// fresh numbering so the map's order does not matter.
		n := want[1:strings.Index(want, " ")]
		s.printCount = atoi(t, n) - 1
		if got := run(t, s, cmd); got != want {
			t.Errorf("%s = %q, want %q", cmd, got, want)
		}
	}
	out = run(t, s, "p *init_task.tasks.next")
	if !regexp.MustCompile(`^\$\d+ = \{\n  next = 0x[0-9a-f]+,( <[^>]+>)?\n  prev = 0x80d0849c <init_task\+1116>\n\}\n$`).MatchString(out) {
		t.Errorf("p *init_task.tasks.next:\n%s", out)
	}
	out = run(t, s, "p runqueues:0")
	if !strings.HasPrefix(out, "per_cpu(runqueues, 0) = $") || !strings.Contains(out, "  __lock = {") {
		t.Errorf("p runqueues:0:\n%.300s", out)
	}
	// One line per bad expression, naming what was wrong.
	for cmd, want := range map[string]string{
		"p init_task.nosuch": `no member "nosuch"`,
		"p *(int *)0":        "0x0",
		"p nosuchsymbol":     `"nosuchsymbol"`,
		"p ((((":             "syntax error",
	} {
		var o, e bytes.Buffer
		if err := s.Exec(cmd, &o, &e); err == nil || strings.Count(e.String(), "\n") != 1 || !strings.Contains(e.String(), want) {
			t.Errorf("%s: err %v, stderr %q, want one line with %q", cmd, err, e.String(), want)
		}
	}
}

func atoi(t *testing.T, s string) int {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			t.Fatalf("not a number: %q", s)
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// TestEvalAndASCII: eval's four radixes and -b, ascii's byte order, as
// crash prints them.
func TestEvalAndASCII(t *testing.T) {
	s, _ := openReference(t)
	want := "hexadecimal: 400  (1KB)\n    decimal: 1024  \n      octal: 2000\n     binary: 00000000000000000000010000000000\n"
	if got := run(t, s, "eval 0x100 * 4"); got != want {
		t.Errorf("eval 0x100 * 4:\n%s\nwant:\n%s", got, want)
	}
	if got := run(t, s, "eval -b 0x12345"); !strings.HasSuffix(got, "   bits set: 16 13 9 8 6 2 0 \n") {
		t.Errorf("eval -b 0x12345:\n%s", got)
	}
	if got := run(t, s, "eval -1"); !strings.Contains(got, "decimal: 4294967295  (-1)\n") {
		t.Errorf("eval -1 on a 32-bit kernel:\n%s", got)
	}
	if got := run(t, s, "eval (unsigned long)&init_task.tasks - (unsigned long)&init_task"); !strings.Contains(got, "decimal: 1116  \n") {
		t.Errorf("eval of a member offset:\n%s", got)
	}
	if got := run(t, s, "ascii 4142434400"); got != "0000004142434400: <NUL>DCBA<NUL><NUL><NUL>\n" {
		t.Errorf("ascii 4142434400 = %q", got)
	}
}
