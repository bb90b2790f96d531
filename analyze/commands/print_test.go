package commands

import (
	"bytes"
	"fmt"
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
	initTask, err := s.Kernel.Syms.Addr("init_task")
	if err != nil {
		t.Fatal(err)
	}
	tasksOff, err := s.Kernel.Types.Offset("struct task_struct", "tasks")
	if err != nil {
		t.Fatal(err)
	}
	tasks := initTask + uint64(tasksOff)
	for i, c := range []struct{ cmd, want string }{
		{"p init_task.comm", `"swapper/0\000\000\000\000\000\000"`},
		{"p &init_task", fmt.Sprintf("(struct task_struct *) %#x <init_task>", initTask)},
		{"p init_task.pid", "0"},
		{"p init_task.comm[1]", "119 'w'"},
		{"px init_task.pid", "0x0"},
		{fmt.Sprintf("p (struct list_head *)%#x", tasks), fmt.Sprintf("(struct list_head *) %#x <init_task+%d>", tasks, tasksOff)},
		{"p sizeof(struct list_head)", "8"},
		{fmt.Sprintf("p &init_task.tasks == %#x", tasks), "1"},
	} {
		want := fmt.Sprintf("$%d = %s\n", i+2, c.want)
		if got := run(t, s, c.cmd); got != want {
			t.Errorf("%s = %q, want %q", c.cmd, got, want)
		}
	}
	out = run(t, s, "p *init_task.tasks.next")
	if !regexp.MustCompile(`^\$\d+ = \{\n  next = 0x[0-9a-f]+,( <[^>]+>)?\n  prev = ` + fmt.Sprintf("%#x <init_task\\+%d>", tasks, tasksOff) + `\n\}\n$`).MatchString(out) {
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
	off, err := s.Kernel.Types.Offset("struct task_struct", "tasks")
	if err != nil {
		t.Fatal(err)
	}
	if got := run(t, s, "eval (unsigned long)&init_task.tasks - (unsigned long)&init_task"); !strings.Contains(got, fmt.Sprintf("decimal: %d  \n", off)) {
		t.Errorf("eval of a member offset:\n%s", got)
	}
	if got := run(t, s, "ascii 4142434400"); got != "0000004142434400: <NUL>DCBA<NUL><NUL><NUL>\n" {
		t.Errorf("ascii 4142434400 = %q", got)
	}
}
