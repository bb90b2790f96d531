package main

import "testing"

func TestParseStat(t *testing.T) {
	pid, ppid, st, comm, ok := parseStat("45 (kworker/0:1 x) S 2 0 0 0 -1")
	if !ok || pid != 45 || ppid != 2 || st != "S" || comm != "kworker/0:1 x" {
		t.Errorf("%d %d %s %q %v", pid, ppid, st, comm, ok)
	}
	if _, _, _, _, ok := parseStat("garbage"); ok {
		t.Error("garbage parsed")
	}
}

// TestConfigRefusesBadValues: each setting reaches a command line or a
// kernel file, so a value outside its set is refused, named with where
// it came from, and the setting keeps its value.
