package commands

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
)

// TestUnterminatedQuoteRunsNothing: with a quote left open the operators'
// meaning is a guess, so nothing runs, not even the part before it.
func TestUnterminatedQuoteRunsNothing(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "help.txt")
	var stdout, stderr bytes.Buffer
	err := (&Session{}).Exec("help > "+out+`; help "sys | sh`, &stdout, &stderr)
	if !errors.Is(err, ErrUsage) || !strings.Contains(stderr.String(), "unterminated") {
		t.Errorf("err %v, stderr %q; want an unterminated-quote usage error", err, stderr.String())
	}
	if _, err := os.Stat(out); err == nil || stdout.Len() > 0 {
		t.Errorf("something ran: %s exists or stdout %q", out, stdout.String())
	}
}

// TestQuotedOperatorsRunNothing: ';', '|' and '>' inside quotes are
// arguments; no shell runs and no file is written.
func TestQuotedOperatorsRunNothing(t *testing.T) {
	dir := t.TempDir()
	pwned := filepath.Join(dir, "pwned")
	var stdout, stderr bytes.Buffer
	(&Session{}).Exec(`help "x; touch `+pwned+`"; help 'y | touch `+pwned+`'; help "z > `+pwned+`"`, &stdout, &stderr)
	if _, err := os.Stat(pwned); err == nil {
		t.Errorf("a quoted operator ran: %s exists", pwned)
	}
}

// FuzzCommandLine: the analyzer's command line (';', '|', '>', '>>',
// quotes) splits without losing or inventing a byte, cuts at the first
// unquoted operator only, and a redirect target is one plain word.
func FuzzCommandLine(f *testing.F) {
	for _, s := range []string{
		`ps | grep "a;b"; bt > out; log >> 'x;y'`, `sys`, `bt -a | sh -c 'cat > /dev/null'`,
		`log > `, `struct task_struct.comm "x | y" > f`, `"unterminated ; ps`, `a>>>b`, `;;|>`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		parts := splitUnquoted(line, ';')
		if strings.Join(parts, ";") != line {
			t.Fatalf("split %q into %q: does not join back", line, parts)
		}
		for _, part := range parts[:len(parts)-1] {
			if openQuote(part) != 0 {
				t.Fatalf("split %q inside quotes: %q", line, parts)
			}
		}
		for _, part := range parts {
			checkPipeAndRedirect(t, part)
		}
	})
}

func checkPipeAndRedirect(t *testing.T, part string) {
	cmd, shell, piped := cutUnquoted(part, '|')
	if piped && cmd+"|"+shell != part || !piped && cmd != part {
		t.Fatalf("cut %q at '|' into %q and %q", part, cmd, shell)
	}
	if _, _, again := cutUnquoted(cmd, '|'); again {
		t.Fatalf("cut %q past its first unquoted '|'", part)
	}
	c, target, _, err := redirect(cmd)
	if err != nil || target == "" {
		return
	}
	if !strings.HasPrefix(cmd, c) || strings.ContainsFunc(target, func(r rune) bool { return r == '>' || unicode.IsSpace(r) || unicode.IsControl(r) }) {
		t.Fatalf("redirect(%q) = %q > %q", cmd, c, target)
	}
	// C's "->" stays in the command (p task->comm); any other unquoted
	// '>' is the redirect's.
	if _, _, again := cutUnquoted(strings.ReplaceAll(c, "->", ""), '>'); again {
		t.Fatalf("redirect(%q) left an unquoted '>' in the command %q", cmd, c)
	}
}

// TestRedirectTargetIsOneWord: a tab or newline in a redirect target was
// taken as part of the file name (found by FuzzCommandLine).
func TestRedirectTargetIsOneWord(t *testing.T) {
	for _, line := range []string{"log > a\tb", "log > a\nb", "log > a\x1bb", "log > a > b"} {
		if _, target, _, err := redirect(line); err == nil {
			t.Errorf("redirect(%q) = target %q, want an error", line, target)
		}
	}
}
