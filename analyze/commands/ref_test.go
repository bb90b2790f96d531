package commands

import (
	"bytes"
	"testing"
)

func TestReferenceOutputs(t *testing.T) {
	s, _ := openReference(t)
	for _, cmd := range []string{"sys", "bt", "ps", "bt -a", "bt 2", "set 2", "set -p", "ps -p 45", "ps -c 1", "struct list_head init_task", "struct task_struct.comm init_task", "whatis panic", "sym panic", "rd jiffies 4", "bt -f"} {
		var out bytes.Buffer
		err := s.Exec(cmd, &out, &out)
		t.Logf("kdumpkit> %s\n%s(err %v)", cmd, out.String(), err)
	}
}
