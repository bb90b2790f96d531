package commands

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/kdumpkit/kdumpkit/protocol"
)

// console holds the ground truth the reference guest printed.
type console struct {
	panicMsg string
	pid      int
	comm     string
	lastLine string // the last log line before "Loading crashdump kernel"
}

func readConsole(t *testing.T, dir string) console {
	b, err := os.ReadFile(filepath.Join(dir, "console.log"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	var c console
	m := regexp.MustCompile(`Kernel panic - not syncing: ([^\r\n]*)`).FindStringSubmatchIndex(s)
	if m == nil {
		t.Fatal("console.log: no panic line")
	}
	c.panicMsg = strings.TrimSpace(s[m[2]:m[3]])
	id := regexp.MustCompile(`CPU: \d+ PID: (\d+) Comm: (\S+)`).FindStringSubmatch(s[m[0]:])
	if id == nil {
		t.Fatal("console.log: no CPU/PID/Comm line after the panic")
	}
	c.pid, _ = strconv.Atoi(id[1])
	c.comm = id[2]
	if i := strings.Index(s, "Loading crashdump kernel"); i > 0 {
		lines := strings.Split(strings.TrimRight(s[:i], "[ \t0123456789.]"), "\n")
		c.lastLine = strings.TrimSpace(lines[len(lines)-1])
	}
	return c
}

func run(t *testing.T, s *Session, line string) string {
	t.Helper()
	var out, errw bytes.Buffer
	if err := s.Exec(line, &out, &errw); err != nil {
		t.Fatalf("%s: %v\n%s", line, err, errw.String())
	}
	return out.String()
}

func TestReferenceSysPanic(t *testing.T) {
	s, dir := openReference(t)
	want := readConsole(t, dir)
	if s.Printk == nil {
		t.Skip("no printk reader wired into this session yet")
	}
	out := run(t, s, "sys")
	if !strings.Contains(out, "PANIC: "+strconv.Quote("Kernel panic - not syncing: "+want.panicMsg)) {
		t.Errorf("sys lacks PANIC %q:\n%s", want.panicMsg, out)
	}
}

func TestReferenceSysPanicTask(t *testing.T) {
	s, dir := openReference(t)
	want := readConsole(t, dir)
	out := run(t, s, "sys")
	for _, line := range []string{
		"PID: " + strconv.Itoa(want.pid),
		"COMMAND: " + strconv.Quote(want.comm),
		"STATE: TASK_RUNNING (PANIC)",
	} {
		if !strings.Contains(out, line) {
			t.Errorf("sys lacks %q:\n%s", line, out)
		}
	}
}

func TestReferenceBtPath(t *testing.T) {
	s, _ := openReference(t)
	out := run(t, s, "bt")
	want := []string{"panic", "sysrq_handle_crash", "__handle_sysrq", "write_sysrq_trigger", "proc_reg_write", "vfs_write", "ret_fast_syscall"}
	frame := regexp.MustCompile(`(?m)^\s*#\d+ \[[0-9a-f]{8}\] (\S+) at [0-9a-f]{8}$`)
	var got []string
	for _, m := range frame.FindAllStringSubmatch(out, -1) {
		got = append(got, m[1])
	}
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	if i < len(want) {
		t.Errorf("bt frames %v do not run through %v (missing %s):\n%s", got, want, want[i], out)
	}
	if strings.Contains(out, "unwinding stopped") {
		t.Errorf("bt stopped early:\n%s", out)
	}
	var bts []BT
	s.JSON = true
	if err := json.Unmarshal([]byte(run(t, s, "bt")), &bts); err != nil || len(bts) != 1 || len(bts[0].Frames) != len(got) {
		t.Errorf("bt --json: %v, %d backtraces", err, len(bts))
	}
}

func TestReferencePsPIDs(t *testing.T) {
	s, dir := openReference(t)
	b, err := os.ReadFile(filepath.Join(dir, "console.log"))
	if err != nil {
		t.Fatal(err)
	}
	out := run(t, s, "ps")
	have := map[string]string{}
	for _, line := range strings.Split(out, "\n")[1:] {
		f := strings.Fields(strings.TrimPrefix(line, ">"))
		if len(f) >= 9 {
			have[f[0]] = f[len(f)-1]
		}
	}
	// The tasks the board listed (protocol: "task PID PPID STATE COMM"
	// between the ground-truth markers) just before it crashed.
	in, listed := false, 0
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == protocol.MarkerTruthBegin:
			in = true
			continue
		case line == protocol.MarkerTruthEnd:
			in = false
		}
		f := strings.SplitN(line, " ", 5)
		if !in || len(f) != 5 || f[0] != "task" {
			continue
		}
		pid, ppid, name := f[1], f[2], f[4]
		listed++
		comm, ok := have[pid]
		switch {
		case !ok:
			t.Errorf("PID %s (%s) listed by the board is missing from ps:\n%s", pid, name, out)
		case (ppid == "2" || pid == "2") != strings.HasPrefix(comm, "["):
			t.Errorf("PID %s (PPID %s): ps shows %q: kernel threads, and only they, are bracketed", pid, ppid, comm)
		case !strings.HasPrefix(name, strings.Trim(comm, "[]")):
			// /proc/PID/stat shows a workqueue worker's current work
			// after its comm ("kworker/0:1-events") and task_struct.comm
			// holds 15 bytes: the dump's comm is a prefix of the listed one.
			t.Errorf("PID %s: ps shows %q, the board listed %q", pid, comm, name)
		}
	}
	if listed < 20 {
		t.Errorf("the console lists only %d tasks", listed)
	}
}

// TestReferenceLogTail: the log's tail is what the console printed from the
// panic on: the same lines with the same timestamps, in order, through the
// console's last line before "Loading crashdump kernel" and beyond it to
// the kernel's last message.
func TestReferenceLogTail(t *testing.T) {
	s, dir := openReference(t)
	if s.Printk == nil {
		t.Skip("no printk reader wired into this session yet")
	}
	b, err := os.ReadFile(filepath.Join(dir, "console.log"))
	if err != nil {
		t.Fatal(err)
	}
	console := string(b)
	start := strings.Index(console, "Kernel panic - not syncing")
	end := strings.Index(console, "Bye!")
	if start < 0 || end < start {
		t.Fatal("console.log: no panic ... Bye! section")
	}
	start = strings.LastIndex(console[:start], "\n") + 1
	var want []string
	for _, line := range strings.Split(console[start:end+len("Bye!")], "\n") {
		if line = strings.TrimRight(line, "\r "); strings.HasPrefix(line, "[") {
			want = append(want, line)
		}
	}
	out := run(t, s, "log")
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) < len(want) {
		t.Fatalf("log has %d lines, the console's panic section %d", len(lines), len(want))
	}
	got := lines[len(lines)-len(want):]
	for i := range want {
		if strings.TrimRight(got[i], " ") != want[i] {
			t.Errorf("log tail line %d = %q, console %q", i, got[i], want[i])
		}
	}
}
