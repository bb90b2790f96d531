package hostcheck

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/kdumpkit/kdumpkit/debpkg"
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

func TestEnsureNothingMissingSaysSo(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "make"), []byte("#!/bin/sh\n"), 0o755)
	t.Setenv("PATH", dir)
	var log strings.Builder
	if err := Ensure(context.Background(), []Need{{"make", "make"}}, &log); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "all 1 needed tools present") {
		t.Errorf("log = %q", log.String())
	}
}

// With a PATH that has neither the tool nor apt-get, Ensure cannot install
// and must fail with the exact command, whoever runs it.
func TestEnsurePrintsInstallCommand(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	var log strings.Builder
	err := Ensure(context.Background(), []Need{{"bison", "bison"}, {"bc", "bc"}}, &log)
	if !errors.Is(err, ErrMissing) || !strings.Contains(err.Error(), "sudo apt-get install -y bc bison") {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(log.String(), "missing bison, bc") {
		t.Errorf("log = %q", log.String())
	}
}

func TestForTestsExtendsForArch(t *testing.T) {
	a, tst := ForArch("qemu-system-arm"), ForTests("qemu-system-arm")
	if len(tst) <= len(a) || !reflect.DeepEqual(tst[:len(a)], a) {
		t.Errorf("ForTests = %v", tst)
	}
}

func TestLibelfOnlyForX86(t *testing.T) {
	has := func(needs []Need) bool {
		for _, n := range needs {
			if n.Package == "libelf-dev" {
				return true
			}
		}
		return false
	}
	if has(ForArch("qemu-system-arm")) || !has(ForArch("qemu-system-x86_64")) {
		t.Error("libelf-dev should be needed for x86 (objtool) only")
	}
}

// TestAptInstallRefusesOptions: a "package" apt-get would read as an
// option is refused before apt-get runs.
func TestAptInstallRefusesOptions(t *testing.T) {
	dir := t.TempDir()
	fakeAptGet(t, dir)
	var log bytes.Buffer
	err := AptInstall(context.Background(), []string{"make", "--allow-unauthenticated"}, &log)
	if !errors.Is(err, debpkg.ErrBadName) || !strings.Contains(err.Error(), "--allow-unauthenticated") {
		t.Errorf("err = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "argv")); err == nil {
		t.Error("apt-get ran")
	}
}

// TestAptInstallPackagesAfterDoubleDash: apt-get sees the packages after
// "--" (apt-get install -- PKG is accepted by the real apt-get too).
func TestAptInstallPackagesAfterDoubleDash(t *testing.T) {
	dir := t.TempDir()
	fakeAptGet(t, dir)
	if err := AptInstall(context.Background(), []string{"make", "libssl-dev"}, io.Discard); err != nil {
		t.Fatal(err)
	}
	argv, _ := os.ReadFile(filepath.Join(dir, "argv"))
	if !strings.HasSuffix(string(argv), "\n--\nmake\nlibssl-dev\n") {
		t.Errorf("apt-get argv:\n%s", argv)
	}
}

// fakeAptGet puts an apt-get that records its argv first on PATH; the
// only stand-in in these tests, since the real one would install.
func fakeAptGet(t *testing.T, dir string) {
	script := "#!/bin/sh\nprintf '%s\\n' \"$@\" > " + filepath.Join(dir, "argv") + "\n"
	if err := os.WriteFile(filepath.Join(dir, "apt-get"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
}
