package commands

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// TestStructForms: struct's several members, COUNT, -o with an address,
// -l, union, whatis struct X and whatis -o, in crash's shapes.
func TestStructForms(t *testing.T) {
	s, _ := openReference(t)
	initTask, _ := s.Kernel.Syms.Addr("init_task")
	off, err := s.Kernel.Types.Offset("struct task_struct", "tasks")
	if err != nil {
		t.Fatal(err)
	}
	tasks := initTask + uint64(off)
	if got := run(t, s, "struct task_struct.pid,comm init_task"); got != "  pid = 0,\n  comm = \"swapper/0\\000\\000\\000\\000\\000\\000\",\n" {
		t.Errorf("struct task_struct.pid,comm: %q", got)
	}
	next, _ := s.Kernel.ReadPtr(tasks)
	prev, _ := s.Kernel.ReadPtr(tasks + 4)
	two := run(t, s, fmt.Sprintf("struct list_head %x 2", tasks))
	if strings.Count(two, "struct list_head {") != 2 || !strings.HasPrefix(two, fmt.Sprintf("struct list_head {\n  next = %#x,\n  prev = %#x", next, prev)) {
		t.Errorf("struct list_head ADDR 2:\n%s", two)
	}
	want := fmt.Sprintf("struct list_head {\n  [%x] struct list_head *next;\n  [%x] struct list_head *prev;\n}\nSIZE: 8\n", tasks, tasks+4)
	if got := run(t, s, fmt.Sprintf("struct -o list_head %x", tasks)); got != want {
		t.Errorf("struct -o list_head ADDR:\n%s\nwant:\n%s", got, want)
	}
	if got := run(t, s, fmt.Sprintf("struct task_struct.pid -l task_struct.tasks %x", tasks)); got != "  pid = 0,\n" {
		t.Errorf("struct -l: %q", got)
	}
	if got := run(t, s, "whatis struct list_head"); got != "struct list_head {\n    struct list_head *next;\n    struct list_head *prev;\n}\nSIZE: 8\n" {
		t.Errorf("whatis struct list_head: %q", got)
	}
	if got := run(t, s, "whatis -o list_head"); !strings.HasPrefix(got, "struct list_head {\n  [0] struct list_head *next;\n  [4]") {
		t.Errorf("whatis -o list_head: %q", got)
	}
	if got := run(t, s, "whatis jiffies"); got != "volatile unsigned long jiffies;\n" {
		t.Errorf("whatis jiffies: %q", got)
	}
	if got := run(t, s, "union sigval"); !strings.HasPrefix(got, "union sigval {\n") {
		t.Errorf("union sigval: %q", got)
	}
	layout := run(t, s, "struct task_struct -o")
	if !strings.Contains(layout, fmt.Sprintf("[%d] struct list_head tasks;\n", off)) {
		t.Errorf("struct task_struct -o lacks tasks at %d", off)
	}
	for _, bad := range []string{"struct page 0 99999", "struct nosuch", "struct task_struct.nosuch init_task", "struct list_head 0", "struct -q list_head"} {
		var o, e bytes.Buffer
		if err := s.Exec(bad, &o, &e); err == nil || strings.Count(e.String(), "\n") != 1 {
			t.Errorf("%s: err %v, stderr %q: want one error line", bad, err, e.String())
		}
	}
}

// TestList: list over init_task.tasks gives the process leaders the task
// walk found, in order, with -s members; -H leaves the head out; a wild
// start is one error line.
func TestList(t *testing.T) {
	s, _ := openReference(t)
	tasks, _ := s.Kernel.Tasks()
	leaders := map[uint64]int{}
	for _, tk := range tasks {
		if tk.PID == tk.TGID {
			leaders[tk.Addr] = tk.PID
		}
	}
	out := run(t, s, "list task_struct.tasks -s task_struct.pid -h init_task")
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 2*len(leaders) {
		t.Fatalf("list -h init_task: %d lines, want %d (address and pid of %d leaders)", len(lines), 2*len(leaders), len(leaders))
	}
	for i := 0; i < len(lines); i += 2 {
		var addr uint64
		fmt.Sscanf(lines[i], "%x", &addr)
		pid, ok := leaders[addr]
		if !ok || lines[i+1] != fmt.Sprintf("  pid = %d,", pid) {
			t.Errorf("entry %q %q: not a leader's address and pid", lines[i], lines[i+1])
		}
	}
	initTask, _ := s.Kernel.Syms.Addr("init_task")
	off, _ := s.Kernel.Types.Offset("struct task_struct", "tasks")
	headOut := run(t, s, fmt.Sprintf("list -o task_struct.tasks -H %x", initTask+uint64(off)))
	if strings.Count(headOut, "\n") != len(leaders)-1 || strings.Contains(headOut, fmt.Sprintf("%x\n", initTask)) {
		t.Errorf("list -H: %d entries, want %d without the head's task", strings.Count(headOut, "\n"), len(leaders)-1)
	}
	if got := run(t, s, "list -H modules"); got != "(empty)\n" && !regexp.MustCompile(`^([0-9a-f]+\n)+$`).MatchString(got) {
		t.Errorf("list -H modules: %q", got)
	}
	var o, e bytes.Buffer
	if err := s.Exec("list 0", &o, &e); err == nil || o.Len() != 0 || strings.Count(e.String(), "\n") != 1 {
		t.Errorf("list 0: err %v, out %q, stderr %q", err, o.String(), e.String())
	}
}
