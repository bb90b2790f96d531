package commands

import (
	"bytes"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestDis: dis on the real dump: a function whole, COUNT, -r up to an
// address, -l with source lines, and one error line for a wild address.
func TestDis(t *testing.T) {
	s, _ := openReference(t)
	sym, err := s.Kernel.Syms.Lookup("schedule")
	if err != nil {
		t.Fatal(err)
	}
	line := regexp.MustCompile(`^0x([0-9a-f]+) <schedule(\+(\d+))?>:\t[a-z.]+`)
	whole := strings.Split(strings.TrimRight(run(t, s, "dis schedule"), "\n"), "\n")
	if uint64(len(whole))*4 != sym.Size {
		t.Errorf("dis schedule: %d instructions, the function is %d bytes", len(whole), sym.Size)
	}
	for i, l := range whole {
		m := line.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("dis schedule line %d: %q", i, l)
		}
		if a, _ := strconv.ParseUint(m[1], 16, 64); a != sym.Addr+uint64(4*i) || (i > 0 && m[3] != strconv.Itoa(4*i)) {
			t.Errorf("line %d: %q, want address %#x", i, l, sym.Addr+uint64(4*i))
		}
		if strings.Contains(l, ".word") {
			t.Errorf("undecoded instruction in schedule: %q", l)
		}
	}
	if got := run(t, s, "dis schedule 3"); got != strings.Join(whole[:3], "\n")+"\n" {
		t.Errorf("dis schedule 3:\n%s", got)
	}
	if got := run(t, s, "dis -r schedule+8"); got != strings.Join(whole[:3], "\n")+"\n" {
		t.Errorf("dis -r schedule+8:\n%s", got)
	}
	withLines := run(t, s, "dis -l schedule 4")
	src := regexp.MustCompile(`(?m)^/\S+: \d+$`)
	if !src.MatchString(withLines) || strings.Count(withLines, "<schedule") != 4 {
		t.Errorf("dis -l schedule 4:\n%s", withLines)
	}
	// A call names its target.
	if !regexp.MustCompile(`\tbl\t0x[0-9a-f]+ <\w+(\+\d+)?>`).MatchString(run(t, s, "dis panic")) {
		t.Error("dis panic: no bl with a named target")
	}
	var o, e bytes.Buffer
	if err := s.Exec("dis 0", &o, &e); err == nil || strings.Count(e.String(), "\n") != 1 {
		t.Errorf("dis 0: %v %q", err, e.String())
	}
}

// TestSourceLines: sym and bt -l name source lines that exist, and the
// line sym gives for panic is in kernel/panic.c where panic is defined.
func TestSourceLines(t *testing.T) {
	s, _ := openReference(t)
	out := run(t, s, "sym panic")
	m := regexp.MustCompile(`\(T\) panic (/\S+/kernel/panic\.c): (\d+)\n$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("sym panic: %q, want kernel/panic.c and a line", out)
	}
	if src, err := os.ReadFile(m[1]); err == nil {
		n, _ := strconv.Atoi(m[2])
		lines := strings.Split(string(src), "\n")
		found := false
		for i := max(0, n-40); i < min(n, len(lines)); i++ {
			found = found || strings.Contains(lines[i], "void panic(const char *fmt")
		}
		if !found {
			t.Errorf("%s:%d is not in panic()", m[1], n)
		}
	}
	bt := run(t, s, "bt -l")
	frames := regexp.MustCompile(`(?m)^ *#\d+ `).FindAllString(bt, -1)
	sources := regexp.MustCompile(`(?m)^    /\S+: \d+$`).FindAllString(bt, -1)
	if len(frames) == 0 || len(sources) < len(frames)-1 {
		t.Errorf("bt -l: %d frames, %d source lines:\n%s", len(frames), len(sources), bt)
	}
	if strings.Contains(run(t, s, "sym init_task"), "/") {
		t.Error("sym of a data symbol has a source line")
	}
}

// TestBtText: bt -t lists every return address the unwinder found on
// the panic task's stack (it scans the stack without unwinding).
func TestBtText(t *testing.T) {
	s, _ := openReference(t)
	out := run(t, s, "bt -t")
	bt := run(t, s, "bt")
	if !strings.Contains(out, "      START: ") {
		t.Fatalf("bt -t:\n%s", out)
	}
	for _, m := range regexp.MustCompile(`(?m)^ +#([1-9]\d*) \[[0-9a-f]+\] (\w+) at ([0-9a-f]+)$`).FindAllStringSubmatch(bt, -1) {
		if m[2] == "ret_fast_syscall" || m[2] == "__irq_svc" {
			continue // entry code: reached by an exception, not a stored return address
		}
		if !strings.Contains(out, " at "+m[3]+"\n") {
			t.Errorf("bt -t lacks frame #%s's return address %s (%s):\n%s", m[1], m[3], m[2], out)
		}
	}
}
