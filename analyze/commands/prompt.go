package commands

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/chzyer/readline"
	"github.com/kdumpkit/kdumpkit/analyze/escape"
)

// Exec runs a line that may hold several commands separated by ";", each
// with an optional "| shell command" and/or "> file" / ">> file", as crash
// allows. Errors are printed to errw and the next command still runs; the
// result is ErrQuit after q, else the last error.
func (s *Session) Exec(line string, out, errw io.Writer) error {
	if q := openQuote(line); q != 0 {
		// Where the user meant the quote to end, and so which ';', '|'
		// or '>' are operators, is a guess: run nothing.
		err := fmt.Errorf("unterminated %c quote in %q: nothing run: %w", q, line, ErrUsage)
		fmt.Fprintln(errw, escape.Text(err.Error()))
		return err
	}
	var last error
	for _, part := range splitUnquoted(line, ';') {
		if strings.TrimSpace(part) == "" {
			continue
		}
		err := s.execOne(part, out)
		if errors.Is(err, ErrQuit) {
			return err
		}
		if err != nil {
			fmt.Fprintln(errw, escape.Text(err.Error()))
			last = err
		}
	}
	return last
}

func (s *Session) execOne(line string, out io.Writer) error {
	cmdPart, shell, hasPipe := cutUnquoted(line, '|')
	cmdPart, target, appendMode, err := redirect(cmdPart)
	if err != nil {
		return err
	}
	if hasPipe {
		// "ps | grep x > f": the redirect belongs to the shell.
		return s.pipe(cmdPart, shell, out)
	}
	if target == "" {
		if s.Scroll && !strings.HasPrefix(strings.TrimSpace(cmdPart), "q") {
			return s.pipe(cmdPart, s.pager(), out)
		}
		return s.Run(out, cmdPart)
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if appendMode {
		flags = os.O_WRONLY | os.O_CREATE | os.O_APPEND
	}
	f, err := os.OpenFile(target, flags, 0o644)
	if err != nil {
		return err
	}
	runErr := s.Run(f, cmdPart)
	if err := f.Close(); err != nil && runErr == nil {
		runErr = err
	}
	return runErr
}

// pager is the paging command: Pager, else $PAGER, else less that quits
// on a screenful and keeps colours and the screen.
func (s *Session) pager() string {
	if s.Pager != "" {
		return s.Pager
	}
	if p := os.Getenv("PAGER"); p != "" {
		return p
	}
	return "less -F -X -R"
}

// setScroll is crash's "set scroll [on|off]".
func (s *Session) setScroll(w io.Writer, args []string) error {
	switch {
	case len(args) == 0:
	case len(args) == 1 && args[0] == "on":
		s.Scroll = true
	case len(args) == 1 && args[0] == "off":
		s.Scroll = false
	default:
		return fmt.Errorf("set scroll [on | off]: %w", ErrUsage)
	}
	state := "off"
	if s.Scroll {
		state = "on (" + s.pager() + ")"
	}
	fmt.Fprintf(w, "scroll: %s\n", state)
	return nil
}

// pipe feeds a command's output to "sh -c shell".
func (s *Session) pipe(cmdLine, shell string, out io.Writer) error {
	c := exec.Command("/bin/sh", "-c", shell)
	c.Stdout, c.Stderr = out, os.Stderr
	in, err := c.StdinPipe()
	if err != nil {
		return err
	}
	if err := c.Start(); err != nil {
		return fmt.Errorf("pipe to %q: %w", shell, err)
	}
	runErr := s.Run(in, cmdLine)
	in.Close()
	if err := c.Wait(); err != nil && runErr == nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) { // grep finding nothing is not our error
			runErr = err
		}
	}
	return runErr
}

// redirect splits "cmd > file" and "cmd >> file". The '>' of C's "->"
// (p task->comm) is not a redirect.
func redirect(line string) (cmd, target string, appendMode bool, err error) {
	cmd, rest, ok := "", line, false
	for {
		before, after, found := cutUnquoted(rest, '>')
		if !found {
			if !ok {
				return line, "", false, nil
			}
			break
		}
		if strings.HasSuffix(before, "-") {
			cmd += before + ">"
			rest = after
			continue
		}
		cmd, rest, ok = cmd+before, after, true
		break
	}
	if !ok {
		return line, "", false, nil
	}
	if strings.HasPrefix(rest, ">") {
		appendMode, rest = true, rest[1:]
	}
	target = strings.TrimSpace(rest)
	if target == "" || strings.ContainsFunc(target, notInFileWord) {
		return "", "", false, fmt.Errorf("redirect: expected one file name after '>' in %q", line)
	}
	return cmd, target, appendMode, nil
}

// notInFileWord is what a redirect's one file name may not hold: a second
// '>', blanks (two words) and control characters (a tab or newline in a
// file name is a typo or a trick, never what the user meant).
func notInFileWord(r rune) bool { return r == '>' || unicode.IsSpace(r) || unicode.IsControl(r) }

// scanQuotes reads s by the command line's quoting (single or double
// quotes, not nested: inside "...", ' is plain, and the reverse) and
// returns the index of the first sep outside quotes (-1 if none; sep 0
// finds none) and the quote left open at the end of s (0 if none).
func scanQuotes(s string, sep byte) (at int, open byte) {
	at = -1
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case open != 0:
			if c == open {
				open = 0
			}
		case c == '"' || c == '\'':
			open = c
		case c == sep && sep != 0 && at < 0:
			at = i
		}
	}
	return at, open
}

// cutUnquoted splits at the first sep outside single or double quotes.
func cutUnquoted(s string, sep byte) (before, after string, found bool) {
	if at, _ := scanQuotes(s, sep); at >= 0 {
		return s[:at], s[at+1:], true
	}
	return s, "", false
}

// openQuote returns the quote character left open at the end of s, 0 if
// none.
func openQuote(s string) byte {
	_, q := scanQuotes(s, 0)
	return q
}

func splitUnquoted(s string, sep byte) []string {
	var parts []string
	for {
		before, after, ok := cutUnquoted(s, sep)
		parts = append(parts, before)
		if !ok {
			return parts
		}
		s = after
	}
}

// RunFile executes the commands of a file, one line each (crash -i).
func (s *Session) RunFile(path string, out, errw io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if err := s.Exec(line, out, errw); errors.Is(err, ErrQuit) {
			return err
		}
	}
	return sc.Err()
}

// Prompt runs the interactive loop with history and line editing until q
// or end of input. History is kept in historyPath when it is not empty.
func (s *Session) Prompt(in io.ReadCloser, out, errw io.Writer, historyPath string) error {
	if historyPath != "" {
		_ = os.MkdirAll(filepath.Dir(historyPath), 0o755)
	}
	rl, err := readline.NewEx(&readline.Config{
		Prompt:          "kdumpkit> ",
		HistoryFile:     historyPath,
		Stdin:           in,
		Stdout:          out,
		Stderr:          errw,
		InterruptPrompt: "^C",
		EOFPrompt:       "q",
	})
	if err != nil {
		return fmt.Errorf("prompt: %w", err)
	}
	defer rl.Close()
	for {
		line, err := rl.Readline()
		if errors.Is(err, readline.ErrInterrupt) {
			continue
		}
		if err != nil { // io.EOF
			return nil
		}
		if err := s.Exec(line, out, errw); errors.Is(err, ErrQuit) {
			return nil
		}
	}
}
