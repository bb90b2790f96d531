package power

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kdumpkit/kdumpkit/boards"
	"github.com/kdumpkit/kdumpkit/internal/syncbuf"
)

// TestCommands runs real commands as the board file gives them: argv, no
// shell, so a $(…) in an argument is only text.
func TestCommands(t *testing.T) {
	dir := t.TempDir()
	mark := filepath.Join(dir, "on")
	var log syncbuf.Buffer
	sw := For(boards.Power{On: []string{"touch", mark}, Off: []string{"rm", filepath.Join(dir, "never-there")}}, nil, &log)
	if err := sw.On(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(mark); err != nil {
		t.Errorf("on did not run: %v", err)
	}
	if !strings.Contains(log.String(), "powering on anyway") {
		t.Errorf("a failed off before on is not reported:\n%s", log.String())
	}
	if err := sw.Off(context.Background()); err == nil || !strings.Contains(err.Error(), "power.off") || strings.Contains(err.Error(), "\n") {
		t.Errorf("Off = %v, want one line naming power.off", err)
	}
	lit := filepath.Join(dir, "$(touch pwned)")
	if err := For(boards.Power{On: []string{"touch", lit}}, nil, &log).On(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(lit); err != nil {
		t.Errorf("the argument did not reach touch as it was: %v", err)
	}
	if _, err := os.Stat("pwned"); err == nil {
		os.Remove("pwned")
		t.Error("a shell ran the argument")
	}
}

func TestResetFirst(t *testing.T) {
	dir := t.TempDir()
	var log syncbuf.Buffer
	sw := For(boards.Power{On: []string{"false"}, Reset: []string{"touch", filepath.Join(dir, "reset")}}, nil, &log)
	if err := sw.On(context.Background()); err != nil {
		t.Fatalf("On with a reset command = %v; want reset used, not on", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "reset")); err != nil {
		t.Error(err)
	}
}

func TestManual(t *testing.T) {
	r, w, _ := os.Pipe()
	var out syncbuf.Buffer
	sw := For(boards.Power{Manual: true}, r, &out)
	done := make(chan error)
	go func() { done <- sw.On(context.Background()) }()
	if !out.WaitFor("press the board's reset button", 5*time.Second) {
		t.Fatalf("no prompt: %q", out.String())
	}
	w.Write([]byte("\n"))
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	w.Close()
	if err := sw.On(context.Background()); err == nil || !strings.Contains(err.Error(), "power.on/power.reset") {
		t.Errorf("On without a terminal = %v, want a hint", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r2, _, _ := os.Pipe()
	if err := For(boards.Power{Manual: true}, r2, &out).On(ctx); err == nil {
		t.Error("a cancelled wait returned nil")
	}
}
