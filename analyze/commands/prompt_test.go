package commands

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSplitAndRedirect(t *testing.T) {
	parts := splitUnquoted(`ps | grep "a;b"; bt > out; log >> 'x;y'`, ';')
	if len(parts) != 3 || !strings.Contains(parts[0], `"a;b"`) {
		t.Fatalf("split = %q", parts)
	}
	cmd, target, app, err := redirect(" log >> x.txt ")
	if err != nil || strings.TrimSpace(cmd) != "log" || target != "x.txt" || !app {
		t.Errorf("redirect = %q %q %v %v", cmd, target, app, err)
	}
	if _, _, _, err := redirect("log > "); err == nil {
		t.Error("redirect without a file name: no error")
	}
}

func TestPipesRedirectsPrompt(t *testing.T) {
	s, _ := openReference(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "ps.txt")
	var stdout, stderr bytes.Buffer
	err := s.Exec("ps | grep -c kworker; ps > "+out+"; sys >> "+out+"; nosuch", &stdout, &stderr)
	if err == nil || !strings.Contains(stderr.String(), "unknown command") {
		t.Errorf("unknown command: err %v stderr %q", err, stderr.String())
	}
	if n := strings.TrimSpace(stdout.String()); n == "0" || n == "" {
		t.Errorf("ps | grep -c kworker printed %q", n)
	}
	b, err := os.ReadFile(out)
	if err != nil || !strings.HasPrefix(string(b), "      PID    PPID") || !strings.Contains(string(b), "RELEASE:") {
		t.Errorf("redirected file: %v\n%s", err, b)
	}
	stdout.Reset()
	in := io.NopCloser(strings.NewReader("set 2\nbt\nq\nps\n"))
	if err := s.Prompt(in, &stdout, &stderr, filepath.Join(dir, "history")); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), `COMMAND: "kthreadd"`) || strings.Contains(stdout.String(), "   PID    PPID") {
		t.Errorf("prompt: want set and bt of kthreadd and nothing after q:\n%s", stdout.String())
	}
}
