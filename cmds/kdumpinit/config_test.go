package main

import "testing"

func TestConfigLayers(t *testing.T) {
	c := defaults()
	c.apply([]byte("# board\ncrash_cmdline=console=ttyAMA0 maxcpus=1\ntargets=9p\n"))
	c.applyCmdline(`console=ttyAMA0 kdumpkit.mode=test kdumpkit.crash=BUG kdumpkit.crash_cmdline="console=ttyS0 nr_cpus=1" quiet`)
	if c.Mode != "test" || c.Crash != "BUG" || c.Targets != "9p" || c.CrashCmdline != "console=ttyS0 nr_cpus=1" {
		t.Errorf("%+v", c)
	}
}

func TestParseStat(t *testing.T) {
	pid, ppid, st, comm, ok := parseStat("45 (kworker/0:1 x) S 2 0 0 0 -1")
	if !ok || pid != 45 || ppid != 2 || st != "S" || comm != "kworker/0:1 x" {
		t.Errorf("%d %d %s %q %v", pid, ppid, st, comm, ok)
	}
	if _, _, _, _, ok := parseStat("garbage"); ok {
		t.Error("garbage parsed")
	}
}
