package kernelsrc

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/kdumpkit/kdumpkit/internal/filelock"
)

// fullCommit is a whole SHA-1 commit id: one found in the cache needs no
// fetch, since it cannot move.
var fullCommit = regexp.MustCompile(`^[0-9a-f]{40}$`)

// fromGit checks ref out of a cached clone of url:
// cacheDir/git/<url>/repo.git (bare) and one work tree per ref beside it,
// tree-<ref>. A branch is fetched on every run (it may have moved); a tag
// or commit already in the cache is not. When the fetch fails (offline)
// the cached ref is used, with a line saying so. The work tree is checked
// out in place, so git rewrites only the files that changed and the
// build after a moved branch is incremental; its ID names url and ref,
// its Rev the commit.
func fromGit(ctx context.Context, url, ref, cacheDir string, log io.Writer) (*Tree, error) {
	if ref == "" {
		ref = "HEAD"
	}
	base := filepath.Join(cacheDir, "git", urlDir(url))
	unlock, err := filelock.Lock(base + ".lock")
	if err != nil {
		return nil, err
	}
	defer unlock()
	repo := filepath.Join(base, "repo.git")
	fetched := false
	if _, err := os.Stat(filepath.Join(repo, "HEAD")); err != nil {
		if err := cloneBare(ctx, url, repo, log); err != nil {
			return nil, err
		}
		fetched = true
	}
	commit, _ := resolveRef(ctx, repo, ref)
	if !fetched && !(commit != "" && (fullCommit.MatchString(ref) || isTag(ctx, repo, ref))) {
		if err := fetch(ctx, repo, url); err != nil {
			if commit == "" {
				return nil, err
			}
			fmt.Fprintf(log, "kernel source: %v; using the cached %s (%.12s)\n", err, ref, commit)
		} else if commit, err = resolveRef(ctx, repo, ref); err != nil {
			return nil, err
		}
	}
	if commit == "" {
		var err error
		if commit, err = resolveRef(ctx, repo, ref); err != nil {
			return nil, err
		}
	}
	wt := filepath.Join(base, "tree-"+sanitizeRef(ref))
	if err := checkout(ctx, repo, wt, commit, log); err != nil {
		return nil, err
	}
	t, err := treeAt(wt, "")
	if err != nil {
		return nil, fmt.Errorf("%s at %s: %w", url, ref, err)
	}
	if err := checkClean(wt); err != nil {
		return nil, fmt.Errorf("%s at %s commits an in-tree build: %w", url, ref, err)
	}
	desc, err := gitOut(ctx, wt, "describe", "--always", "--abbrev=12")
	if err != nil {
		return nil, err
	}
	h := sha256.Sum256([]byte(url + "\x00" + ref))
	t.ID = "git-" + sanitize(strings.TrimSuffix(filepath.Base(strings.TrimRight(url, "/")), ".git")) + "-" + hex.EncodeToString(h[:6])
	t.Rev = "git " + commit
	t.Source = fmt.Sprintf("git %s %s (commit %.12s)", url, ref, commit)
	if d := strings.TrimSpace(desc); !strings.HasPrefix(commit, d) {
		t.Source = fmt.Sprintf("git %s %s (%s, commit %.12s)", url, ref, d, commit)
	}
	return t, nil
}

// urlDir names a repository's directory in the cache: the URL made safe
// for a path, with a hash so that two URLs that clean up alike differ.
func urlDir(url string) string {
	clean := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, url)
	clean = strings.Trim(clean, "._")
	if len(clean) > 80 {
		clean = clean[len(clean)-80:]
	}
	h := sha256.Sum256([]byte(url))
	return clean + "-" + hex.EncodeToString(h[:4])
}

// sanitizeRef makes a ref a file name: refs/heads/x and x/y have slashes.
func sanitizeRef(ref string) string {
	return strings.ReplaceAll(strings.ReplaceAll(ref, "/", "_"), ":", "_")
}

func cloneBare(ctx context.Context, url, repo string, log io.Writer) error {
	if err := os.MkdirAll(filepath.Dir(repo), 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(repo), ".clone-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	fmt.Fprintf(log, "kernel source: git clone --bare %s (once; later runs fetch)\n", url)
	if _, err := gitOut(ctx, tmp, "clone", "--bare", "-q", "--", localOrURL(url), "repo.git"); err != nil {
		return err
	}
	return os.Rename(filepath.Join(tmp, "repo.git"), repo)
}

// fetch brings every branch and tag of url into the bare clone, moved
// branches and tags included.
func fetch(ctx context.Context, repo, url string) error {
	_, err := gitOut(ctx, repo, "fetch", "-q", "--prune", "--force", "--", localOrURL(url), "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*")
	return err
}

// localOrURL turns a file:// URL into its path: git clones a path with
// hard links in a second or two, a file:// URL through its pack transport,
// which repacks the whole repository (minutes for a kernel).
func localOrURL(u string) string {
	if p, err := url.Parse(u); err == nil && p.Scheme == "file" && (p.Host == "" || p.Host == "localhost") && p.Path != "" {
		return p.Path
	}
	return u
}

func resolveRef(ctx context.Context, repo, ref string) (string, error) {
	out, err := gitOut(ctx, repo, "rev-parse", "--verify", "-q", "--end-of-options", ref+"^{commit}")
	if err != nil {
		return "", fmt.Errorf("ref %q: no such branch, tag or commit in %s", ref, repo)
	}
	return strings.TrimSpace(out), nil
}

func isTag(ctx context.Context, repo, ref string) bool {
	_, err := gitOut(ctx, repo, "rev-parse", "--verify", "-q", "--end-of-options", "refs/tags/"+ref)
	return err == nil
}

// checkout makes wt hold commit: a new linked work tree the first time,
// after that a checkout in place, which touches only the files that differ.
func checkout(ctx context.Context, repo, wt, commit string, log io.Writer) error {
	if _, err := os.Stat(filepath.Join(wt, ".git")); err != nil {
		os.RemoveAll(wt)
		// A work tree removed by hand leaves its record behind.
		gitOut(ctx, repo, "worktree", "prune")
		fmt.Fprintf(log, "kernel source: checking out %.12s into %s\n", commit, wt)
		_, err := gitOut(ctx, repo, "worktree", "add", "-q", "--detach", "--force", "--", wt, commit)
		return err
	}
	head, err := gitOut(ctx, wt, "rev-parse", "HEAD")
	if err == nil && strings.TrimSpace(head) == commit {
		return nil
	}
	fmt.Fprintf(log, "kernel source: moving %s to %.12s\n", wt, commit)
	_, err = gitOut(ctx, wt, "-c", "advice.detachedHead=false", "checkout", "-q", "--force", "--detach", commit)
	return err
}
