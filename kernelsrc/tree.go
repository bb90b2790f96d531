package kernelsrc

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ErrTreeNotClean means a kernel tree holds an in-tree build, which the
// kernel's own Makefile refuses for O= builds ("The source tree is not
// clean"): kdumpkit builds out of tree and never writes to the user's tree,
// so it cannot clean it either.
var ErrTreeNotClean = errors.New("kernel tree has been configured or built in place")

// fromTree uses the developer's own checkout as it is, uncommitted edits
// included. Its ID names its place, so the object tree stays the same
// while the tree changes and an edit rebuilds incrementally; its Rev
// names its content, so the build stamp notices the edit.
func fromTree(ctx context.Context, dir string) (*Tree, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", abs)
	}
	t, err := treeAt(abs, "")
	if err != nil {
		return nil, err
	}
	if err := checkClean(abs); err != nil {
		return nil, err
	}
	id, err := identify(ctx, abs)
	if err != nil {
		return nil, err
	}
	h := sha256.Sum256([]byte(abs))
	t.ID = "tree-" + sanitize(filepath.Base(abs)) + "-" + hex.EncodeToString(h[:6])
	t.Rev, t.Dirty = id.rev, id.dirty
	t.Source = "tree " + abs + " (" + id.label + ")"
	return t, nil
}

// checkClean refuses a tree the kernel would refuse for an O= build: one
// with a .config, include/config or an arch's include/generated (the
// checks in the top Makefile's outputmakefile rule).
func checkClean(dir string) error {
	var found []string
	for _, p := range []string{".config", "include/config"} {
		if _, err := os.Lstat(filepath.Join(dir, p)); err == nil {
			found = append(found, p)
		}
	}
	gen, _ := filepath.Glob(filepath.Join(dir, "arch", "*", "include", "generated"))
	for _, g := range gen {
		r, _ := filepath.Rel(dir, g)
		found = append(found, r)
	}
	if len(found) > 0 {
		return fmt.Errorf("%s: %w (it has %s); kdumpkit builds out of tree and never writes to your tree: run `make mrproper` there (it deletes that build) or point path at a clean checkout",
			dir, ErrTreeNotClean, strings.Join(found, ", "))
	}
	return nil
}

// identity is what a tree holds now: rev goes into the build's input hash,
// label into the log and the dump's manifest.
type identity struct {
	rev, label string
	dirty      bool
}

// identify names a tree's content: for a git work tree, the commit
// (`git describe --always`), the diff against it and the untracked files
// git does not ignore; otherwise every file's path, size and mtime (a
// walk of a 6.1 tree's 78,000 files takes about a second).
func identify(ctx context.Context, dir string) (identity, error) {
	if g, err := gitIdentity(ctx, dir); err == nil {
		return g, nil
	} else if !errors.Is(err, errNotGit) {
		return identity{}, err
	}
	h := sha256.New()
	n := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Name() == ".git" && d.IsDir() {
			return filepath.SkipDir
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		fmt.Fprintf(h, "%s\x00%v\x00%d\x00%d\n", rel, info.Mode(), info.Size(), info.ModTime().UnixNano())
		n++
		return nil
	})
	if err != nil {
		return identity{}, fmt.Errorf("reading %s: %w", dir, err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	return identity{rev: "files " + sum, label: fmt.Sprintf("not a git work tree: %d paths, sizes and mtimes hash to %.12s", n, sum)}, nil
}

var errNotGit = errors.New("not a git work tree")

// gitIdentity is identify for a git work tree. Every git command runs
// with GIT_OPTIONAL_LOCKS=0, so not even git's index refresh writes into
// the user's repository, and with external diff and textconv drivers off,
// so the diff is the repository's bytes whatever the user's config says.
// The diff and untracked files are those under dir: the kernel may be a
// subdirectory of a larger repository.
func gitIdentity(ctx context.Context, dir string) (identity, error) {
	if _, err := exec.LookPath("git"); err != nil {
		return identity{}, errNotGit
	}
	inside, err := gitOut(ctx, dir, "rev-parse", "--is-inside-work-tree")
	if err != nil || strings.TrimSpace(inside) != "true" {
		return identity{}, errNotGit
	}
	head, err := gitOut(ctx, dir, "rev-parse", "--verify", "-q", "HEAD^{commit}")
	if err != nil {
		// A repository without a commit has nothing to describe: its
		// files are the identity.
		return identity{}, errNotGit
	}
	desc, err := gitOut(ctx, dir, "describe", "--always", "--abbrev=12")
	if err != nil {
		return identity{}, err
	}
	h := sha256.New()
	fmt.Fprintf(h, "git %s\n", strings.TrimSpace(head))
	changed, err := gitHashDiff(ctx, dir, h)
	if err != nil {
		return identity{}, err
	}
	untracked, err := gitHashUntracked(ctx, dir, h)
	if err != nil {
		return identity{}, err
	}
	id := identity{rev: hex.EncodeToString(h.Sum(nil)), label: "git " + strings.TrimSpace(desc)}
	if changed+untracked > 0 {
		id.dirty = true
		id.label += fmt.Sprintf(", dirty: %d changed and %d untracked file(s)", changed, untracked)
	} else {
		id.label += ", clean"
	}
	return id, nil
}

// gitHashDiff hashes the diff against HEAD under dir and counts the files in it.
func gitHashDiff(ctx context.Context, dir string, h hash.Hash) (int, error) {
	// diff-index, the plumbing: porcelain `git diff` refreshes and writes
	// the index even with GIT_OPTIONAL_LOCKS=0 (git 2.39). A file whose
	// stat changed but whose content did not prints nothing with -p.
	cmd := gitCmd(ctx, dir, "diff-index", "-p", "--binary", "HEAD", "--", ".")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	n := 0
	r := bufio.NewReaderSize(out, 64<<10)
	for {
		line, err := r.ReadSlice('\n')
		h.Write(line)
		if bytes.HasPrefix(line, []byte("diff --git ")) {
			n++
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			// A long line: the rest is hashed on the next reads and
			// cannot start with "diff --git".
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = r.ReadSlice('\n')
				h.Write(line)
			}
		}
		if err != nil {
			break
		}
	}
	if err := cmd.Wait(); err != nil {
		return 0, fmt.Errorf("git -C %s diff-index HEAD: %w: %s", dir, err, firstLine(stderr.String()))
	}
	return n, nil
}

// gitHashUntracked hashes the names and contents of the files under dir
// that git neither tracks nor ignores: a new .c file the diff's Makefile
// change builds is part of the tree.
func gitHashUntracked(ctx context.Context, dir string, h hash.Hash) (int, error) {
	out, err := gitOut(ctx, dir, "ls-files", "-z", "--others", "--exclude-standard", "--", ".")
	if err != nil {
		return 0, err
	}
	n := 0
	for _, name := range strings.Split(out, "\x00") {
		if name == "" {
			continue
		}
		n++
		p := filepath.Join(dir, name)
		fmt.Fprintf(h, "untracked %s\n", name)
		if target, err := os.Readlink(p); err == nil {
			fmt.Fprintf(h, "-> %s\n", target)
			continue
		}
		f, err := os.Open(p)
		if err != nil {
			// Gone since git listed it: the name alone is its identity.
			continue
		}
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return 0, fmt.Errorf("reading %s: %w", p, err)
		}
	}
	return n, nil
}

func gitCmd(ctx context.Context, dir string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_OPTIONAL_LOCKS=0", "GIT_TERMINAL_PROMPT=0", "LC_ALL=C")
	return cmd
}

func gitOut(ctx context.Context, dir string, args ...string) (string, error) {
	var stderr bytes.Buffer
	cmd := gitCmd(ctx, dir, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git -C %s %s: %w: %s", dir, strings.Join(args, " "), err, firstLine(stderr.String()))
	}
	return string(out), nil
}
