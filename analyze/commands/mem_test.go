package commands

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// TestRdShapes: rd's widths, -a, -x, -s, -p and COUNT on linux_banner,
// whose bytes the test knows, in crash's layout.
func TestRdShapes(t *testing.T) {
	s, _ := openReference(t)
	banner, err := s.Kernel.Syms.Addr("linux_banner")
	if err != nil {
		t.Fatal(err)
	}
	a := func(off int) string { return fmt.Sprintf("%08x", banner+uint64(off)) }
	for cmd, want := range map[string]string{
		"rd linux_banner 4":       a(0) + ":  756e694c 65762078 6f697372 2e36206e   Linux version 6.\n",
		"rd -8 linux_banner 3":    a(0) + ":  4c 69 6e" + strings.Repeat(" ", 13*3) + "   Lin\n",
		"rd -16 linux_banner 2":   a(0) + ":  694c 756e" + strings.Repeat(" ", 6*5) + "   Linu\n",
		"rd -64 linux_banner 1":   a(0) + ":  65762078756e694c" + strings.Repeat(" ", 17) + "   Linux ve\n",
		"rd -x linux_banner 2":    a(0) + ":  756e694c 65762078 \n",
		"rd -a -8 linux_banner 5": a(0) + ":  Linux\n",
	} {
		if got := run(t, s, cmd); got != want {
			t.Errorf("%s:\n%q\nwant\n%q", cmd, got, want)
		}
	}
	out := run(t, s, "rd -a linux_banner")
	if !strings.HasPrefix(out, a(0)+":  Linux version ") || !strings.Contains(out, "\n"+a(60)+":  ") {
		t.Errorf("rd -a: 60 characters a line from the banner:\n%s", out)
	}
	// -p reads the same bytes at the physical address vtop gives.
	pa, err := s.Kernel.VirtToPhys(banner)
	if err != nil {
		t.Fatal(err)
	}
	if got := run(t, s, fmt.Sprintf("rd -p %x 4", pa)); !strings.HasSuffix(got, "756e694c 65762078 6f697372 2e36206e   Linux version 6.\n") {
		t.Errorf("rd -p %x: %q", pa, got)
	}
	// -s names a word that points into a symbol: init_task.tasks.prev
	// of a one-task list... any word equal to &init_task shows its name.
	initTask, _ := s.Kernel.Syms.Addr("init_task")
	if got := run(t, s, "rd -s init_task 64"); !strings.Contains(got, " init_task ") && !strings.Contains(got, " init_task+") {
		t.Errorf("rd -s init_task names no word pointing into init_task (%#x):\n%s", initTask, got)
	}
	for _, bad := range []string{"rd 0 4", "rd linux_banner 99999999", "rd -q linux_banner", "rd nosuchsym"} {
		var o, e bytes.Buffer
		if err := s.Exec(bad, &o, &e); err == nil || strings.Count(e.String(), "\n") != 1 {
			t.Errorf("%s: err %v, stderr %q: want one error line", bad, err, e.String())
		}
	}
}

// TestAddressConversions: vtop and ptov are inverse on the linear map,
// btop and ptob on page numbers (ptob's number decimal, as crash reads it).
func TestAddressConversions(t *testing.T) {
	s, _ := openReference(t)
	va, _ := s.Kernel.Syms.Addr("init_task")
	out := run(t, s, fmt.Sprintf("vtop %x", va))
	m := regexp.MustCompile(`^VIRTUAL   PHYSICAL\n([0-9a-f]+) +([0-9a-f]+)\n$`).FindStringSubmatch(out)
	if m == nil || m[1] != fmt.Sprintf("%x", va) {
		t.Fatalf("vtop %x:\n%s", va, out)
	}
	if back := run(t, s, "ptov "+m[2]); back != fmt.Sprintf("VIRTUAL   PHYSICAL\n%-8x  %s\n", va, m[2]) {
		t.Errorf("ptov %s = %q, want %x back", m[2], back, va)
	}
	if got := run(t, s, "btop 60001000"); got != "60001000: 60001\n" {
		t.Errorf("btop = %q", got)
	}
	if got := run(t, s, "ptob 60001; ptob 0x10"); got != "ea61: ea61000\n10: 10000\n" {
		t.Errorf("ptob = %q", got)
	}
	var o, e bytes.Buffer
	if err := s.Exec("vtop 0", &o, &e); err == nil || !strings.Contains(e.String(), "0x0") {
		t.Errorf("vtop 0: %v %q", err, e.String())
	}
}

// TestTaskMembers: task -R prints only the members asked for, for each
// task given, with crash's header and a blank line after each.
func TestTaskMembers(t *testing.T) {
	s, _ := openReference(t)
	init, err := s.Kernel.TaskByPID(1)
	if err != nil {
		t.Fatal(err)
	}
	want := taskHeader(init) + "\n  comm = \"" + init.Comm + `\000` + "\"" // prefix check below
	out := run(t, s, "task -R comm,pid 1")
	if !strings.HasPrefix(out, want[:len(taskHeader(init))+10]) || !strings.HasSuffix(out, "  pid = 1,\n\n") || strings.Count(out, "\n") != 4 {
		t.Errorf("task -R comm,pid 1:\n%s", out)
	}
	out = run(t, s, "task -R se.on_rq 1 2")
	if strings.Count(out, "PID: ") != 2 || strings.Count(out, "  se.on_rq = ") != 2 {
		t.Errorf("task -R se.on_rq 1 2:\n%s", out)
	}
	var o, e bytes.Buffer
	if err := s.Exec("task -R nosuch 1", &o, &e); err == nil || !strings.Contains(e.String(), "nosuch") {
		t.Errorf("task -R nosuch: %v %q", err, e.String())
	}
}
