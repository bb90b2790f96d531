package walls

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

const module = "github.com/kdumpkit/kdumpkit/"

// buildSide are the packages that fetch, build and boot.
var buildSide = []string{"boards", "debpkg", "downloads", "hostcheck", "kbuild", "kernelcfg", "kernelsrc", "pipeline", "qemu", "rootfs", "toolchain"}

// heavyAnalyzer are the analyzer layers a board never needs: DWARF types,
// symbol tables, unwinders, kernel helpers and commands.
var heavyAnalyzer = []string{"analyze/types", "analyze/symbols", "analyze/unwind", "analyze/kernel", "analyze/commands"}

// wall is one rule: packages matching From must not depend on any of Not.
type wall struct {
	why   string
	from  string   // package path prefix, relative to the module
	not   []string // forbidden package prefixes, relative to the module; "*" is every package of the module
	deps  bool     // transitive (go list -deps) rather than direct imports
	env   []string // GOOS/GOARCH to list for
	extra []string // extra go list flags
}

func walls() []wall {
	return []wall{
		{why: "the analyzer reads dumps on any host and knows nothing of building or capturing them",
			from: "analyze/", not: append([]string{"capture", "cmds/", "cmd/", "kexec", "internal/testdump"}, buildSide...), deps: true},
		{why: "the build side drives the analyzer as a binary; linking it would tie kernel builds to DWARF code",
			from: "", not: []string{"analyze/"}, deps: true, extra: []string{"-tags", "mage"}},
		{why: "the board side runs in a crash kernel with a few MiB to spare: no type system, symbols or commands",
			from: "cmds/", not: heavyAnalyzer, deps: true, env: []string{"GOOS=linux", "GOARCH=arm"}},
		{why: "the board side runs in a crash kernel: nothing of the build side",
			from: "cmds/", not: append([]string{"cmd/"}, buildSide...), deps: true, env: []string{"GOOS=linux", "GOARCH=arm"}},
		{why: "the board's init only loads and crashes; the protocol is all it shares with the capture side (net/http and TLS cost it 2.4 MB)",
			from: "cmds/kdumpinit", not: []string{"capture", "analyze/"}, deps: true, env: []string{"GOOS=linux", "GOARCH=arm"}},
		{why: "the host-board protocol is one dependency-free package both ends import",
			from: "protocol", not: []string{"*"}, deps: true},
		{why: "the dump format is shared by the board's capture and the analyzer: it imports nothing of either (compressors aside, which are outside the module)",
			from: "diskdump", not: []string{"*"}, deps: true},
		{why: "the capture library is shared by the board and the host receiver: it must stay free of the build side and the heavy analyzer",
			from: "capture", not: append(append([]string{}, buildSide...), heavyAnalyzer...), deps: true},
	}
}

func moduleRoot(t *testing.T) string {
	_, self, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(self), "..", "..")
}

// list returns each package of the module (the root package only with
// -tags mage, where the magefile lives) with its direct or transitive
// dependencies inside the module.
func list(t *testing.T, w wall) map[string][]string {
	t.Helper()
	field := "Imports"
	if w.deps {
		field = "Deps"
	}
	args := append([]string{"list"}, w.extra...)
	args = append(args, "-f", "{{.ImportPath}}:{{join ."+field+" \" \"}}")
	if len(w.extra) > 0 {
		args = append(args, ".") // the magefile's package
	} else {
		args = append(args, "./...")
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = moduleRoot(t)
	cmd.Env = append(os.Environ(), w.env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	pkgs := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		p, deps, _ := strings.Cut(line, ":")
		p = strings.TrimPrefix(strings.TrimPrefix(p, "github.com/kdumpkit/kdumpkit"), "/")
		var own []string
		for _, d := range strings.Fields(deps) {
			if strings.HasPrefix(d, module) {
				own = append(own, strings.TrimPrefix(d, module))
			}
		}
		pkgs[p] = own
	}
	return pkgs
}

// violations lists "pkg → dep" for every package under w.from that
// depends on a forbidden prefix.
func violations(pkgs map[string][]string, w wall) []string {
	var bad []string
	for p, deps := range pkgs {
		if !strings.HasPrefix(p, w.from) {
			continue
		}
		for _, d := range deps {
			for _, n := range w.not {
				if n == "*" || d == strings.TrimSuffix(n, "/") || strings.HasPrefix(d, n) && strings.HasSuffix(n, "/") || strings.HasPrefix(d, n+"/") {
					bad = append(bad, p+" → "+d)
				}
			}
		}
	}
	return bad
}

func TestWalls(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs go list over the module")
	}
	for _, w := range walls() {
		pkgs := list(t, w)
		if len(pkgs) == 0 {
			t.Fatalf("go list found no packages for %q", w.from)
		}
		for _, v := range violations(pkgs, w) {
			t.Errorf("%s (%s)", v, w.why)
		}
	}
}

// TestViolationsFindsABreach checks the matcher itself on a made-up
// module, so a rule that matches nothing cannot pass by accident.
func TestViolationsFindsABreach(t *testing.T) {
	pkgs := map[string][]string{
		"analyze/printk": {"analyze/dump", "kbuild"},
		"analyze/dump":   {},
		"cmds/capture":   {"capture", "analyze/types"},
		"kbuildx":        {"analyze/dump"},
	}
	if got := violations(pkgs, wall{from: "analyze/", not: []string{"kbuild"}}); len(got) != 1 || got[0] != "analyze/printk → kbuild" {
		t.Errorf("analyze wall: %v", got)
	}
	if got := violations(pkgs, wall{from: "cmds/", not: heavyAnalyzer}); len(got) != 1 || got[0] != "cmds/capture → analyze/types" {
		t.Errorf("board wall: %v", got)
	}
	if got := violations(pkgs, wall{from: "kbuild", not: []string{"analyze/"}}); len(got) != 1 {
		t.Errorf("prefix match: %v", got)
	}
	if got := violations(map[string][]string{"protocol": {"capture"}}, wall{from: "protocol", not: []string{"*"}}); len(got) != 1 {
		t.Errorf("*: %v", got)
	}
	if got := violations(map[string][]string{"cmds/x": {"captureplus"}}, wall{from: "cmds/", not: []string{"capture"}}); len(got) != 0 {
		t.Errorf("capture matched captureplus: %v", got)
	}
}
