package commands

import (
	"encoding/json"
	"testing"
)

func TestReferenceJSON(t *testing.T) {
	s, dir := openReference(t)
	want := readConsole(t, dir)
	s.JSON = true
	var si SysInfo
	if err := json.Unmarshal([]byte(run(t, s, "sys")), &si); err != nil {
		t.Fatal(err)
	}
	if si.PID != want.pid || si.Command != want.comm || si.Release == "" || si.Tasks == 0 {
		t.Errorf("sys --json = %+v; console says PID %d comm %s", si, want.pid, want.comm)
	}
	var rows []PSEntry
	if err := json.Unmarshal([]byte(run(t, s, "ps")), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != si.Tasks {
		t.Errorf("ps --json has %d rows, sys says %d tasks", len(rows), si.Tasks)
	}
	active := 0
	for _, r := range rows {
		if r.Active {
			active++
			if r.PID != want.pid {
				t.Errorf("active task PID %d, want the panic task %d", r.PID, want.pid)
			}
		}
	}
	if active != si.CPUs {
		t.Errorf("%d active tasks for %d CPUs", active, si.CPUs)
	}
}
