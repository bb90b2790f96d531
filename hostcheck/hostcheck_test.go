package hostcheck

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestMissing(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"make", "bison"} {
		os.WriteFile(filepath.Join(dir, p), []byte("#!/bin/sh\n"), 0o755)
	}
	os.WriteFile(filepath.Join(dir, "flex"), []byte("not executable"), 0o644)
	header := filepath.Join(dir, "opensslv.h")
	os.WriteFile(header, nil, 0o644)
	needs := []Need{{"make", "make"}, {"bison", "bison"}, {"flex", "flex"}, {"qemu-system-arm", "qemu-system-arm"},
		{header, "libssl-dev"}, {filepath.Join(dir, "nope.h"), "libelf-dev"}}
	got := Missing(needs, dir)
	want := []Need{{"flex", "flex"}, {"qemu-system-arm", "qemu-system-arm"}, {filepath.Join(dir, "nope.h"), "libelf-dev"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Missing = %v, want %v", got, want)
	}
	if p := Packages(append(got, Need{"flex2", "flex"})); !reflect.DeepEqual(p, []string{"flex", "libelf-dev", "qemu-system-arm"}) {
		t.Errorf("Packages = %v", p)
	}
	if c := InstallCommand([]string{"flex", "bc"}); c != "sudo apt-get install -y flex bc" {
		t.Errorf("InstallCommand = %q", c)
	}
}

func TestForArchPicksQEMUPackage(t *testing.T) {
	for bin, pkg := range map[string]string{"qemu-system-arm": "qemu-system-arm", "qemu-system-aarch64": "qemu-system-arm", "qemu-system-x86_64": "qemu-system-x86"} {
		if n := ForArch(bin)[0]; n.What != bin || n.Package != pkg {
			t.Errorf("%s: %+v", bin, n)
		}
	}
}
