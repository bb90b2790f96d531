package commands

import (
	"bytes"
	"strings"
	"testing"
)

// TestNewCommandsBadInput: every command added for issue 11 answers bad
// input — a wild address, a huge count, an unknown member or option, a
// non-list — with one error line, never a panic ("internal error") and
// never a second line.
func TestNewCommandsBadInput(t *testing.T) {
	s, _ := openReference(t)
	oneErrorLine(t, s, []string{
		"p", "p 0x", "p *(int *)4", "p init_task.", "p init_task.nosuch", "p (struct nosuch *)0", "p runqueues:99999", "p 1 +",
		"px ((", "pd *0", "eval", "eval -q 1", "eval 1/0", "ascii zz",
		"rd", "rd -q 1", "rd 4", "rd linux_banner 0", "rd linux_banner 999999999", "rd -p ffffffff 4",
		"vtop", "vtop 4", "ptov zz", "btop zz", "ptob zz",
		"whatis", "whatis nosuch_type_or_symbol", "struct", "struct nosuch", "struct list_head 4", "struct list_head init_task 100000",
		"struct task_struct.nosuch init_task", "union nosuch", "struct task_struct -l nosuch init_task",
		"list", "list 4", "list -s nosuch init_task", "list -o nosuch.member init_task", "list -z 1",
		"dis", "dis 4", "dis schedule 0", "dis schedule 999999", "dis -r 4",
		"kmem", "kmem -z", "kmem 4", "task -R nosuch", "task -R comm 999999", "files 999999", "files -z",
		"runq -z", "mod -z", "vm -z", "vm 999999", "swap -z", "mount -z", "search", "search -s 0 1", "net -z", "mach -z", "log -z", "sys -z", "foreach", "foreach 999999 bt", "foreach bogus",
		"sym -z 1 2", "bt -z",
	})
}

// oneErrorLine runs each line and wants it to fail with one error line on
// stderr, never a panic ("internal error") and never a second line.
func oneErrorLine(t *testing.T, s *Session, lines []string) {
	t.Helper()
	for _, line := range lines {
		var out, errw bytes.Buffer
		err := s.Exec(line, &out, &errw)
		if err == nil {
			t.Errorf("%q: no error (out %.200q)", line, out.String())
			continue
		}
		if strings.Contains(errw.String(), "internal error") || strings.Count(errw.String(), "\n") != 1 {
			t.Errorf("%q: stderr %q, want one error line", line, errw.String())
		}
	}
}
