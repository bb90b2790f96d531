package kbuild

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kdumpkit/kdumpkit/internal/syncbuf"
)

// Kbuild's output as make -j2 interleaves it, cut at awkward places.
const makeOutput = "  SYNC    include/config/auto.conf\n  CC      init/main.o\n  HOSTCC  scripts/kallsyms\n" +
	"  AS      arch/arm/kernel/entry-armv.o\n  CC [M]  drivers/x.o\n  LD      vmlinux.o\n" +
	"In file included from init/main.c:1:\n  CC      kernel/fork.o\n  AR      kernel/built-in.a\n"

func TestProgressCountsObjects(t *testing.T) {
	var log syncbuf.Buffer
	p := newProgress(8, false, nil, &log, 10*time.Millisecond)
	for i := 0; i < len(makeOutput); i += 7 {
		p.Write([]byte(makeOutput[i:min(i+7, len(makeOutput))]))
	}
	time.Sleep(50 * time.Millisecond)
	if n := p.finish(); n != 4 {
		t.Errorf("counted %d objects, want 4 (CC, AS, CC [M], CC)", n)
	}
	if !strings.Contains(log.String(), "kernel: 4/8 objects, ") {
		t.Errorf("periodic lines:\n%s", log.String())
	}
	var est syncbuf.Buffer
	p = newProgress(100, true, nil, &est, 10*time.Millisecond)
	p.Write([]byte(makeOutput))
	time.Sleep(50 * time.Millisecond)
	p.finish()
	if !strings.Contains(est.String(), "kernel: 4/~100 objects (a first build's estimate), ") {
		t.Errorf("estimate lines:\n%s", est.String())
	}
	var inc syncbuf.Buffer
	p = newProgress(0, false, nil, &inc, 10*time.Millisecond)
	p.Write([]byte(makeOutput))
	time.Sleep(50 * time.Millisecond)
	p.finish()
	if !strings.Contains(inc.String(), "kernel: 4 objects rebuilt, ") {
		t.Errorf("incremental lines:\n%s", inc.String())
	}
}

// TestProgressBar draws on a "terminal" (a buffer): the count reaches it,
// and a total that proves too small grows instead of overflowing.
func TestProgressBar(t *testing.T) {
	var term, log syncbuf.Buffer
	p := newProgress(2, false, &term, &log, time.Millisecond)
	p.Write([]byte(makeOutput))
	if n := p.finish(); n != 4 || p.total != 4 {
		t.Errorf("count %d, total %d", n, p.total)
	}
	// The bar redraws at most every 200 ms and clears itself at the end
	// (the "built in" line follows): what it drew shows the grown total.
	if !strings.Contains(term.String(), "kernel: objects") || !strings.Contains(term.String(), "/4)") || log.String() != "" {
		t.Errorf("terminal %q, log %q", term.String(), log.String())
	}
}

func TestExpectedObjects(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, ".config")
	os.WriteFile(cfg, []byte("CONFIG_A=y\nCONFIG_B=y\n# CONFIG_C is not set\nCONFIG_D=m\nCONFIG_E=\"y\"\n"), 0o644)
	if n, est := expectedObjects(dir, filepath.Join(dir, "board.objects"), cfg); n != 3 || !est {
		t.Errorf("estimate %d, %v; want 2 symbols × 1.8", n, est)
	}
	recordObjects(1666, filepath.Join(dir, "board.objects"))
	if n, est := expectedObjects(dir, filepath.Join(dir, "board.objects"), cfg); n != 1666 || est {
		t.Errorf("board's record: %d, %v", n, est)
	}
	recordObjects(397, filepath.Join(dir, objectsFile))
	if n, _ := expectedObjects(dir, filepath.Join(dir, "board.objects"), cfg); n != 397 {
		t.Errorf("the object tree's own record: %d", n)
	}
}
