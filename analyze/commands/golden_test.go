package commands

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/golden from the cached test dump (TestGolden)")

// goldenDir holds one file per command, its invocations' outputs on the
// test dump, and goldenDumpFile the identity of the dump they were made
// on.
const (
	goldenDir      = "testdata/golden"
	goldenDumpFile = "DUMP"
)

// goldenCommands are the invocations recorded, by command. %[1]d is the
// panic task's PID, %[2]x init's mm, %[3]x the panic task's address.
var goldenCommands = map[string][]string{
	"sys":     {"sys", "sys -t"},
	"bt":      {"bt", "bt -a", "bt -f", "bt -F", "bt -FF", "bt -l", "bt -t", "bt -e", "bt -r", "bt 1"},
	"ps":      {"ps", "ps -p %[1]d", "ps -c 1", "ps -G", "ps -t", "ps -l", "ps -m", "ps -S", "ps 1 kthreadd"},
	"log":     {"log", "log -T", "log -t", "log -m"},
	"sym":     {"sym schedule", "sym ret_fast_syscall", "sym -q sysrq_handle", "sym jiffies"},
	"rd":      {"rd linux_banner 8", "rd -8 linux_banner 20", "rd -64 linux_banner 4", "rd -s init_task 16", "rd -a linux_banner"},
	"p":       {"p jiffies", "p linux_banner", "p init_task.comm", "px init_task.pid", "pd init_task.prio", "p runqueues:0"},
	"eval":    {"eval 0x100 * 4", "eval -b 0x12345"},
	"ascii":   {"ascii 4142434400"},
	"struct":  {"struct list_head init_task", "struct task_struct.comm,pid init_task", "struct -o list_head", "union -o sigval"},
	"whatis":  {"whatis panic", "whatis struct list_head", "whatis jiffies"},
	"list":    {"list -H vmap_area_list -o vmap_area.list", "list task_struct.tasks -s task_struct.comm -h init_task"},
	"tree":    {"tree -t rbtree -o vmap_area.rb_node vmap_area_root", "tree -l -p -t rbtree -o vmap_area.rb_node vmap_area_root", "tree -t xarray -p -r pid_namespace.idr init_pid_ns", "tree -t maple -p -r mm_struct.mm_mt %[2]x"},
	"kmem":    {"kmem -i", "kmem %[3]x", "kmem -s", "kmem -v", "kmem -g", "kmem -f"},
	"task":    {"task -R comm,pid 1", "task 1"},
	"files":   {"files", "files 1"},
	"vm":      {"vm", "vm 1"},
	"runq":    {"runq"},
	"mod":     {"mod"},
	"net":     {"net"},
	"mount":   {"mount"},
	"swap":    {"swap"},
	"mach":    {"mach"},
	"dis":     {"dis -l schedule 4", "dis sysrq_handle_crash", "dis -r sysrq_handle_crash+8"},
	"search":  {`search -c "sysrq triggered crash"`},
	"vtop":    {"vtop %[3]x"},
	"ptov":    {"ptov 60000000"},
	"btop":    {"btop 60001000"},
	"ptob":    {"ptob 60001"},
	"foreach": {"foreach bt", "foreach kernel ps"},
	"set":     {"set", "set 1"},
	"irq":     {"irq", "irq -u", "irq -b"},
	"timer":   {"timer", "timer -C 0"},
	"dev":     {"dev", "dev -d"},
	"sig":     {"sig 1", "sig -l"},
	"ipcs":    {"ipcs"},
	"waitq":   {"waitq log_wait"},
}

// TestGolden compares every command's output on the cached vexpress test
// dump with testdata/golden/<command>.txt, reviewed by hand against
// crash 8.0.2 (see TestOracleCrash for what is compared with crash
// itself). The files are only valid for the dump they were made on: a
// new kernel build or capture makes a new dump (the test dump is
// deterministic only per cache key, and a QEMU run is not
// bit-reproducible), so the test skips, naming both, when the dump's
// vmcore sha256 is not the one in testdata/golden/DUMP. To regenerate:
//
//	go test ./analyze/commands -run TestGolden -update
//
// and review the diff (git diff analyze/commands/testdata/golden).
func TestGolden(t *testing.T) {
	s, dir := openReference(t)
	sum, err := vmcoreSHA(dir)
	if err != nil {
		t.Fatal(err)
	}
	identity := "vmcore sha256 " + sum + "\n"
	recorded, _ := os.ReadFile(filepath.Join(goldenDir, goldenDumpFile))
	if !*updateGolden && string(recorded) != identity {
		t.Skipf("the golden files were made on a different test dump (%s: %q; this dump %s): "+
			"regenerate with go test ./analyze/commands -run TestGolden -update and review the diff",
			filepath.Join(goldenDir, goldenDumpFile), strings.TrimSpace(string(recorded)), sum)
	}
	p, err := s.Kernel.PanicTask()
	if err != nil {
		t.Fatal(err)
	}
	init, err := s.Kernel.TaskByPID(1)
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(goldenCommands))
	for n := range goldenCommands {
		names = append(names, n)
	}
	sort.Strings(names)
	if *updateGolden {
		if err := os.MkdirAll(goldenDir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(goldenDir, goldenDumpFile), []byte(identity), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	table := commandTable()
	for _, name := range names {
		if _, ok := table[name]; !ok {
			t.Logf("%s: no such command yet, not recorded", name)
			continue
		}
		var got bytes.Buffer
		for _, c := range goldenCommands[name] {
			line := c
			if strings.Contains(c, "%[") {
				line = fmt.Sprintf(c, p.Task.PID, init.MM, p.Task.Addr)
			}
			var out, errw bytes.Buffer
			err := s.Exec(line, &out, &errw)
			fmt.Fprintf(&got, "kdumpkit> %s\n%s", line, out.String())
			if err != nil {
				fmt.Fprintf(&got, "error: %s", errw.String())
			}
		}
		// The dump's directory is the cache's, not the repository's.
		text := strings.ReplaceAll(got.String(), dir, "$DUMPDIR")
		path := filepath.Join(goldenDir, name+".txt")
		if *updateGolden {
			if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			// A command added since the files were made: not a change of
			// output (-update records it).
			t.Logf("%s: no %s yet (-update records it)", name, path)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if text != string(want) {
			t.Errorf("%s differs from %s: %s\n(if the change is meant, regenerate with go test ./analyze/commands -run TestGolden -update and review the diff)",
				name, path, lineDiff(text, string(want)))
		}
	}
}

// vmcoreSHA is the vmcore's sha256 as the capture's manifest.json beside
// it records it (verified when the dump was brought home).
func vmcoreSHA(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return "", err
	}
	var m struct {
		Files []struct{ Name, SHA256 string }
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return "", fmt.Errorf("%s: %w", filepath.Join(dir, "manifest.json"), err)
	}
	for _, f := range m.Files {
		if f.Name == "vmcore" && f.SHA256 != "" {
			return f.SHA256, nil
		}
	}
	return "", fmt.Errorf("%s records no vmcore sha256", filepath.Join(dir, "manifest.json"))
}

// lineDiff shows the first line where got and want part.
func lineDiff(got, want string) string {
	gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(gl) && i < len(wl); i++ {
		if gl[i] != wl[i] {
			return fmt.Sprintf("line %d: now %q, golden %q", i+1, gl[i], wl[i])
		}
	}
	return fmt.Sprintf("now %d lines, golden %d", len(gl), len(wl))
}
