package kernelsrc

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kdumpkit/kdumpkit/boards"
)

// kernelShaped writes a tiny kernel-shaped tree (what treeAt checks, and
// a source file to edit) at dir.
func kernelShaped(t *testing.T, dir string) {
	t.Helper()
	for name, body := range map[string]string{"Makefile": mk61, "Kconfig": "mainmenu \"x\"\n", "init/main.c": "int main;\n"} {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func gitIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@localhost", "-c", "init.defaultBranch=main"}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func needGit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git: apt-get install git")
	}
}

// boardIn is a board file in dir whose only kernel source is s.
func boardIn(dir string, s boards.Source) *boards.Board {
	return &boards.Board{Path: filepath.Join(dir, "board.toml"), Kernel: boards.Kernel{Version: "6.1", Sources: []boards.Source{s}}}
}

func TestTreeSourceWithoutGit(t *testing.T) {
	top := t.TempDir()
	kernelShaped(t, filepath.Join(top, "linux"))
	b := boardIn(filepath.Join(top, "boards"), boards.Source{Kind: "tree", Path: "../linux"})
	var log bytes.Buffer
	t1, err := Resolve(context.Background(), b, t.TempDir(), &log)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if t1.Dir != filepath.Join(top, "linux") || !strings.HasPrefix(t1.ID, "tree-linux-") || !strings.HasPrefix(t1.Rev, "files ") ||
		t1.Dirty || !strings.Contains(t1.Source, "not a git work tree: 5 paths") {
		t.Errorf("tree %+v", t1)
	}
	if !strings.Contains(log.String(), "kernel source: using tree "+t1.Dir) {
		t.Errorf("log:\n%s", log.String())
	}
	t2, err := Resolve(context.Background(), b, t.TempDir(), &log)
	if err != nil || t2.Rev != t1.Rev || t2.ID != t1.ID {
		t.Fatalf("unchanged tree: %+v, %v", t2, err)
	}
	// A touch is a change (no git to say the content is the same); the
	// place, and with it the object tree, stays.
	later := time.Now().Add(time.Minute)
	os.Chtimes(filepath.Join(top, "linux", "init", "main.c"), later, later)
	t3, err := Resolve(context.Background(), b, t.TempDir(), &log)
	if err != nil || t3.Rev == t1.Rev || t3.ID != t1.ID {
		t.Errorf("touched tree: %+v, %v", t3, err)
	}
}

// TestTreeBuiltInPlaceRefused: a tree with an in-tree build is refused as
// the kernel's O= build refuses it, with the way out, and nothing is
// written to it.
func TestTreeBuiltInPlaceRefused(t *testing.T) {
	for _, leftover := range []string{".config", "include/config/", "arch/arm/include/generated/"} {
		dir := t.TempDir()
		kernelShaped(t, dir)
		p := filepath.Join(dir, leftover)
		if strings.HasSuffix(leftover, "/") {
			os.MkdirAll(p, 0o755)
		} else {
			os.WriteFile(p, []byte("CONFIG_X=y\n"), 0o644)
		}
		_, err := Resolve(context.Background(), boardIn(dir, boards.Source{Kind: "tree", Path: dir}), t.TempDir(), &bytes.Buffer{})
		if !errors.Is(err, ErrTreeNotClean) || !errors.Is(err, ErrNoSource) || !strings.Contains(err.Error(), "make mrproper") ||
			!strings.Contains(err.Error(), strings.TrimSuffix(leftover, "/")) {
			t.Errorf("%s: %v", leftover, err)
		}
	}
	var log bytes.Buffer
	_, err := Resolve(context.Background(), boardIn(t.TempDir(), boards.Source{Kind: "tree", Path: "/nonexistent/linux"}), t.TempDir(), &log)
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(log.String(), "kernel source 1 of 1 (tree /nonexistent/linux) failed: stat /nonexistent/linux") {
		t.Errorf("missing tree: %v\n%s", err, log.String())
	}
}

// TestTreeSourceGit: a git work tree is named by its commit, its diff and
// its untracked files; dirty is said; git's index is never written.
func TestTreeSourceGit(t *testing.T) {
	needGit(t)
	repo := t.TempDir()
	kernelShaped(t, filepath.Join(repo, "linux"))
	os.WriteFile(filepath.Join(repo, "README"), []byte("outside the kernel\n"), 0o644)
	gitIn(t, repo, "init", "-q")
	gitIn(t, repo, "add", ".")
	gitIn(t, repo, "commit", "-q", "-m", "base")
	head := gitIn(t, repo, "rev-parse", "--short=12", "HEAD")
	dir := filepath.Join(repo, "linux") // the kernel is a subdirectory, as in a BSP repository
	b := boardIn(dir, boards.Source{Kind: "tree", Path: "."})
	index := filepath.Join(repo, ".git", "index")
	before, _ := os.ReadFile(index)
	stBefore, _ := os.Stat(index)
	resolve := func() *Tree {
		t.Helper()
		tr, err := Resolve(context.Background(), b, t.TempDir(), &bytes.Buffer{})
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	clean := resolve()
	if clean.Dirty || !strings.Contains(clean.Source, "(git "+head+", clean)") {
		t.Errorf("clean tree: %+v", clean)
	}
	// Touching without changing is no change for git.
	later := time.Now().Add(time.Minute)
	os.Chtimes(filepath.Join(dir, "init", "main.c"), later, later)
	if tr := resolve(); tr.Rev != clean.Rev {
		t.Errorf("a touch changed the rev of a git tree: %s", tr.Source)
	}
	// Outside the kernel's directory is outside its identity.
	os.WriteFile(filepath.Join(repo, "README"), []byte("changed\n"), 0o644)
	os.WriteFile(filepath.Join(repo, "notes.txt"), []byte("untracked outside\n"), 0o644)
	if tr := resolve(); tr.Rev != clean.Rev || tr.Dirty {
		t.Errorf("a change outside the kernel directory: %s", tr.Source)
	}
	os.WriteFile(filepath.Join(dir, "init", "main.c"), []byte("int main = 1;\n"), 0o644)
	edited := resolve()
	if !edited.Dirty || edited.Rev == clean.Rev || edited.ID != clean.ID ||
		!strings.Contains(edited.Source, "(git "+head+", dirty: 1 changed and 0 untracked file(s))") {
		t.Errorf("edited tree: %+v", edited)
	}
	os.WriteFile(filepath.Join(dir, "init", "new.c"), []byte("int x;\n"), 0o644)
	untracked := resolve()
	if untracked.Rev == edited.Rev || !strings.Contains(untracked.Source, "dirty: 1 changed and 1 untracked file(s)") {
		t.Errorf("untracked file: %+v", untracked)
	}
	os.WriteFile(filepath.Join(dir, "init", "new.c"), []byte("int y;\n"), 0o644)
	if tr := resolve(); tr.Rev == untracked.Rev {
		t.Error("an untracked file's content is not part of the rev")
	}
	after, _ := os.ReadFile(index)
	stAfter, _ := os.Stat(index)
	if !bytes.Equal(before, after) || !stAfter.ModTime().Equal(stBefore.ModTime()) {
		t.Error("resolving the tree wrote git's index")
	}
}

// TestGitSource: a bare repository by a relative path and by file://, a
// branch that moves (fetched, checked out in place: same ID), a tag, and
// offline use of what the cache holds.
func TestGitSource(t *testing.T) {
	needGit(t)
	top := t.TempDir()
	work := filepath.Join(top, "work")
	kernelShaped(t, work)
	gitIn(t, work, "init", "-q")
	gitIn(t, work, "add", ".")
	gitIn(t, work, "commit", "-q", "-m", "base")
	gitIn(t, work, "tag", "-a", "-m", "v6.1.192", "v6.1.192")
	gitIn(t, top, "clone", "-q", "--bare", work, "linux.git")
	gitIn(t, work, "remote", "add", "origin", filepath.Join(top, "linux.git"))
	cache := t.TempDir()
	ctx := context.Background()
	var log bytes.Buffer
	main := boardIn(filepath.Join(top, "boards"), boards.Source{Kind: "git", URL: "../linux.git", Ref: "main"})
	t1, err := Resolve(ctx, main, cache, &log)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	base := gitIn(t, work, "rev-parse", "HEAD")
	if t1.Rev != "git "+base || !strings.HasPrefix(t1.Dir, filepath.Join(cache, "git")) || !strings.HasPrefix(t1.ID, "git-linux-") ||
		!strings.Contains(t1.Source, "git "+filepath.Join(top, "linux.git")+" main (v6.1.192, commit "+base[:12]+")") {
		t.Errorf("tree %+v", t1)
	}
	if !strings.Contains(log.String(), "git clone --bare") {
		t.Errorf("log:\n%s", log.String())
	}

	// main moves: fetched and checked out in the same work tree.
	os.WriteFile(filepath.Join(work, "init", "main.c"), []byte("int main = 2;\n"), 0o644)
	gitIn(t, work, "commit", "-q", "-am", "moves")
	gitIn(t, work, "push", "-q", "origin", "main")
	log.Reset()
	t2, err := Resolve(ctx, main, cache, &log)
	if err != nil {
		t.Fatal(err)
	}
	moved := gitIn(t, work, "rev-parse", "HEAD")
	body, _ := os.ReadFile(filepath.Join(t2.Dir, "init", "main.c"))
	if t2.ID != t1.ID || t2.Dir != t1.Dir || t2.Rev != "git "+moved || string(body) != "int main = 2;\n" ||
		!strings.Contains(log.String(), "kernel source: moving "+t1.Dir) || strings.Contains(log.String(), "clone") {
		t.Errorf("moved main: %+v\n%s", t2, log.String())
	}

	// The same URL through file:// is another cache entry; a tag is its
	// own work tree (its own object tree).
	tag := boardIn(top, boards.Source{Kind: "git", URL: "file://" + filepath.Join(top, "linux.git"), Ref: "v6.1.192"})
	t3, err := Resolve(ctx, tag, cache, &log)
	if err != nil || t3.Rev != "git "+base || t3.ID == t1.ID {
		t.Fatalf("tag: %+v, %v", t3, err)
	}

	// Offline: the repository is gone. A tag in the cache needs no fetch;
	// a branch says it uses the cached one; an unknown ref fails.
	os.RemoveAll(filepath.Join(top, "linux.git"))
	log.Reset()
	if t4, err := Resolve(ctx, tag, cache, &log); err != nil || t4.Rev != t3.Rev || strings.Contains(log.String(), "using the cached") {
		t.Errorf("offline tag: %+v, %v\n%s", t4, err, log.String())
	}
	log.Reset()
	if t5, err := Resolve(ctx, main, cache, &log); err != nil || t5.Rev != t2.Rev || !strings.Contains(log.String(), "using the cached main ("+moved[:12]+")") {
		t.Errorf("offline branch: %+v, %v\n%s", t5, err, log.String())
	}
	_, err = Resolve(ctx, boardIn(top, boards.Source{Kind: "git", URL: "file://" + filepath.Join(top, "linux.git"), Ref: "nosuch"}), cache, &log)
	if err == nil || !errors.Is(err, ErrNoSource) {
		t.Errorf("unknown ref offline: %v", err)
	}
}

func TestURLDir(t *testing.T) {
	a, b := urlDir("https://git.kernel.org/pub/scm/linux/kernel/git/stable/linux.git"), urlDir("https://git.kernel.org/pub/scm/linux/kernel/git/stable/linux_git")
	if a == b || strings.ContainsAny(a, "/:") || !strings.Contains(a, "git.kernel.org_pub_scm") {
		t.Errorf("%s, %s", a, b)
	}
	if d := urlDir("../../../etc"); strings.Contains(d, "/") || strings.HasPrefix(d, ".") {
		t.Errorf("%s", d)
	}
}

func TestLocalOrURL(t *testing.T) {
	for in, want := range map[string]string{
		"file:///srv/linux.git":          "/srv/linux.git",
		"file://localhost/srv/linux.git": "/srv/linux.git",
		"file://host/srv/linux.git":      "file://host/srv/linux.git",
		"https://example.org/linux.git":  "https://example.org/linux.git",
		"git@example.org:linux.git":      "git@example.org:linux.git",
		"/srv/linux.git":                 "/srv/linux.git",
		"file:///srv/linux%20copy.git":   "/srv/linux copy.git",
	} {
		if got := localOrURL(in); got != want {
			t.Errorf("%s → %s, want %s", in, got, want)
		}
	}
}
