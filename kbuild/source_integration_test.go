package kbuild

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kdumpkit/kdumpkit/boards"
	"github.com/kdumpkit/kdumpkit/hostcheck"
	"github.com/kdumpkit/kdumpkit/internal/filelock"
	"github.com/kdumpkit/kdumpkit/kernelsrc"
	"github.com/kdumpkit/kdumpkit/toolchain"
)

// tinyBoard builds ARM's tinyconfig (an ARMv7-M kernel of about 400
// objects where vexpress_defconfig compiles 1,700) from src: the build
// paths of a tree or git source are the same whatever the config.
func tinyBoard(src boards.Source) *boards.Board {
	return &boards.Board{Name: "tiny-arm", Arch: "arm", Path: "tiny-arm.toml",
		Kernel:    boards.Kernel{Version: "6.1", Defconfig: "tinyconfig", Image: "zImage", Sources: []boards.Source{src}},
		Toolchain: boards.Toolchain{Sources: []boards.Source{{Kind: "path", Prefix: "arm-linux-gnueabihf-"}}}}
}

// testSources is a developer's kernel checkout and its bare repository,
// made once in the cache from the Debian 6.1 tree (a hard-linked copy, so
// 1.3 GB cost no space; git add and commit of its 78,000 files take about
// 40 s) and kept at a stable path, since a tree source's object tree is
// named by its path: a later run rebuilds incrementally, not from cold.
func testSources(t *testing.T, ctx context.Context) (tree, bare string) {
	t.Helper()
	vexpress, err := boards.Shipped("vexpress")
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	deb, err := kernelsrc.Resolve(ctx, vexpress, cacheDir(t), &log)
	if err != nil {
		t.Skipf("no Debian kernel source to copy: %v\n%s", err, log.String())
	}
	base := filepath.Join(cacheDir(t), "testsrc")
	unlock, err := filelock.Lock(base + ".lock")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(unlock)
	tree, bare = filepath.Join(base, "tree-"+deb.ID), filepath.Join(base, "tree-"+deb.ID+".git")
	if _, err := os.Stat(filepath.Join(bare, "kdumpkit-ready")); err == nil {
		return tree, bare
	}
	start := time.Now()
	old, _ := filepath.Glob(filepath.Join(base, "tree-*"))
	for _, o := range old {
		os.RemoveAll(o) // made from an older Debian version: ours, in our directory
	}
	os.MkdirAll(base, 0o755)
	tmp := filepath.Join(base, ".making")
	os.RemoveAll(tmp)
	run(t, "", "cp", "-al", deb.Dir, tmp)
	// Debian's tarball ignores everything at its top (its packaging's
	// .gitignore), so the files are added with -f.
	run(t, tmp, "git", "init", "-q", "-b", "main")
	run(t, tmp, "git", "add", "-f", "-A", ".")
	run(t, tmp, "git", "-c", "user.name=kdumpkit", "-c", "user.email=kdumpkit@localhost", "commit", "-q", "-m", "Linux "+deb.Version+" from "+deb.Source)
	if err := os.Rename(tmp, tree); err != nil {
		t.Fatal(err)
	}
	run(t, "", "git", "clone", "-q", "--bare", tree, bare)
	run(t, tree, "git", "remote", "add", "bare", bare)
	os.WriteFile(filepath.Join(bare, "kdumpkit-ready"), nil, 0o644)
	t.Logf("made the test checkout %s and %s in %s", tree, bare, time.Since(start).Round(time.Second))
	return tree, bare
}

func run(t *testing.T, dir string, argv ...string) string {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
	}
	return string(out)
}

// editFile changes one line at the end of a .c file of the tree. The copy
// shares its inodes with the cached Debian tree, so the file is written
// anew and renamed into place: the cache's file is never touched.
func editFile(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const mark = "/* kdumpkit incremental-build test: "
	if i := bytes.Index(b, []byte(mark)); i >= 0 {
		b = b[:i]
	}
	b = append(b, mark+time.Now().Format(time.RFC3339Nano)+" */\n"...)
	tmp := path + ".kdumpkit-tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

var compiled = regexp.MustCompile(`kernel: built in (\S+) \((\d+) objects compiled\)`)

// buildTiny resolves and builds as `kernel:build` does (both steps each
// time: a second run is a new invocation) and returns the log.
func buildTiny(t *testing.T, ctx context.Context, b *boards.Board) (*kernelsrc.Tree, *Artifacts, string) {
	t.Helper()
	var log bytes.Buffer
	tc, err := toolchain.Resolve(ctx, b, cacheDir(t), &log)
	if err != nil {
		t.Skipf("no arm-linux-gnueabihf-gcc: %v", err)
	}
	start := time.Now()
	tree, err := kernelsrc.Resolve(ctx, b, cacheDir(t), &log)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	resolved := time.Since(start)
	build := &Build{Board: b, Tree: tree, Toolchain: tc, CacheDir: cacheDir(t), OutDir: t.TempDir(), Log: &log, ProgressEvery: 20 * time.Second}
	a, err := build.Run(ctx)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	t.Logf("resolved in %s, built=%v from scratch=%v in %s:\n%s", resolved.Round(time.Millisecond), a.Built, a.FromScratch, a.Duration.Round(time.Millisecond), log.String())
	return tree, a, log.String()
}

// TestTreeAndGitSourcesBuild builds a developer's checkout (kind tree) and
// a bare repository (kind git) for real: a second run with nothing
// changed runs no make; an edited .c file rebuilds incrementally in the
// same object tree, the log naming the tree dirty; a branch that moved
// is fetched and rebuilt incrementally. Cold, two tinyconfig builds
// (2 to 13 minutes each, by the machine's load); warm, two incremental
// ones of a few seconds each.
func TestTreeAndGitSourcesBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds real kernels")
	}
	if miss := hostcheck.Missing(hostcheck.ForArch("qemu-system-arm"), os.Getenv("PATH")); len(miss) > 0 {
		t.Skipf("host lacks %v: `go run mage.go test` installs them", miss)
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git: apt-get install git")
	}
	ctx := context.Background()
	dir, bare := testSources(t, ctx)
	edited := filepath.Join(dir, "init", "main.c")

	t.Run("tree", func(t *testing.T) {
		b := tinyBoard(boards.Source{Kind: "tree", Path: dir})
		first, a, _ := buildTiny(t, ctx, b)
		if !a.exist() {
			t.Fatalf("artifacts missing: %+v", a)
		}
		again, a2, log := buildTiny(t, ctx, b)
		if a2.Built || !strings.Contains(log, "up to date") || again.Rev != first.Rev {
			t.Errorf("second run with nothing changed ran make (rev %s → %s):\n%s", first.Rev, again.Rev, log)
		}

		editFile(t, edited)
		touched, a3, log := buildTiny(t, ctx, b)
		if touched.ID != first.ID || touched.Rev == first.Rev || !touched.Dirty {
			t.Errorf("edited tree: ID %s → %s, rev %s → %s, dirty %v", first.ID, touched.ID, first.Rev, touched.Rev, touched.Dirty)
		}
		if !a3.Built || a3.FromScratch || !strings.Contains(log, "(incremental: only what changed)") {
			t.Errorf("an edited .c was not an incremental build:\n%s", log)
		}
		if !strings.Contains(log, "kernel: Linux 6.1.") || !strings.Contains(log, "dirty: 1 changed and 0 untracked file(s)") {
			t.Errorf("the build log does not name the tree dirty:\n%s", log)
		}
		if m := compiled.FindStringSubmatch(log); m == nil {
			t.Errorf("no object count:\n%s", log)
		} else if n, _ := strconv.Atoi(m[2]); n < 1 || n > 20 {
			t.Errorf("an edit to init/main.c compiled %d objects", n)
		}
		// Nothing was written into the tree: git sees the one edit and
		// not a single file it does not track, ignored ones included.
		if st := run(t, dir, "git", "status", "--porcelain", "--ignored", "--untracked-files=all"); strings.TrimSpace(st) != "M init/main.c" {
			t.Errorf("the build wrote into the tree: git status:\n%s", st)
		}
	})

	t.Run("git", func(t *testing.T) {
		head := strings.TrimSpace(run(t, bare, "git", "rev-parse", "main"))
		b := tinyBoard(boards.Source{Kind: "git", URL: "file://" + bare, Ref: "main"})
		tree, a, log := buildTiny(t, ctx, b)
		if tree.Rev != "git "+head || !strings.Contains(tree.Source, head[:12]) {
			t.Errorf("git source at %s (%s), want main = %s", tree.Rev, tree.Source, head)
		}
		if !a.exist() || strings.HasPrefix(tree.Dir, dir) {
			t.Errorf("tree %s, artifacts %+v", tree.Dir, a)
		}
		_, a2, log2 := buildTiny(t, ctx, b)
		if a2.Built {
			t.Errorf("second run with nothing changed ran make:\n%s", log2)
		}
		// main moves: the next run fetches it and rebuilds only the change.
		moveMain(t, bare, "init/main.c")
		moved, a3, log3 := buildTiny(t, ctx, b)
		if moved.ID != tree.ID || moved.Rev == tree.Rev || !strings.Contains(log3, "kernel source: moving ") {
			t.Errorf("moved main: ID %s → %s, rev %s → %s:\n%s", tree.ID, moved.ID, tree.Rev, moved.Rev, log3)
		}
		if !a3.Built || a3.FromScratch || !strings.Contains(log3, "(incremental: only what changed)") {
			t.Errorf("a moved branch was not an incremental build:\n%s", log3)
		}
		_ = log
	})
}

// moveMain commits a one-line change of file onto main of the bare
// repository, as a developer's push would, through a temporary index:
// neither the checkout's HEAD nor its files change.
func moveMain(t *testing.T, bare, file string) {
	t.Helper()
	idx := filepath.Join(t.TempDir(), "index")
	git := func(stdin string, args ...string) string {
		cmd := exec.Command("git", append([]string{"--git-dir", bare}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_INDEX_FILE="+idx,
			"GIT_AUTHOR_NAME=kdumpkit", "GIT_AUTHOR_EMAIL=kdumpkit@localhost", "GIT_COMMITTER_NAME=kdumpkit", "GIT_COMMITTER_EMAIL=kdumpkit@localhost")
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("git %s: %v", strings.Join(args, " "), err)
		}
		return strings.TrimSpace(string(out))
	}
	text := git("", "show", "main:"+file)
	const mark = "/* kdumpkit moved-branch test: "
	if i := strings.Index(text, mark); i >= 0 {
		text = text[:i]
	}
	text = strings.TrimRight(text, "\n") + "\n" + mark + time.Now().Format(time.RFC3339Nano) + " */\n"
	blob := git(text, "hash-object", "-w", "--stdin")
	git("", "read-tree", "main")
	git("", "update-index", "--cacheinfo", "100644,"+blob+","+file)
	tree := git("", "write-tree")
	git("", "update-ref", "refs/heads/main", git("", "commit-tree", tree, "-p", "main", "-m", "kdumpkit test: main moves"))
}
