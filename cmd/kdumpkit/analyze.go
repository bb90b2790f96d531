package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"

	"github.com/kdumpkit/kdumpkit/analyze/commands"
)

// runAnalyze is `kdumpkit analyze [-c "cmd; cmd"] [-i FILE] [--json]
// VMLINUX VMCORE`, crash's argument order: batch commands when -c or -i is
// given, else the interactive prompt.
func runAnalyze(args []string, stdin io.ReadCloser, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("analyze", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cmds := fs.String("c", "", "run these commands (separated by ';') and exit")
	file := fs.String("i", "", "run the commands in FILE, one a line, and exit")
	asJSON := fs.Bool("json", false, "print sys, ps, bt and log as JSON")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kdumpkit analyze [-c \"cmd; cmd\"] [-i FILE] [--json] VMLINUX VMCORE")
		fmt.Fprintln(stderr, "VMLINUX \"-\" analyses without one: symbols from the dump's kallsyms; sys, log, sym and rd work.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		fs.Usage()
		return fmt.Errorf("analyze: want VMLINUX and VMCORE, got %d arguments", fs.NArg())
	}
	// Opening builds the symbol table and the DWARF index in one burst
	// of allocation that all stays live: collecting garbage during it
	// only costs time (about 4 ms of a cold run's 75). The session
	// collects as usual.
	gc := debug.SetGCPercent(400)
	s, closeFiles, err := commands.Open(fs.Arg(0), fs.Arg(1), cacheDir(), stderr)
	debug.SetGCPercent(gc)
	if err != nil {
		return err
	}
	defer closeFiles()
	s.JSON = *asJSON
	batch := *cmds != "" || *file != ""
	if *file != "" {
		if err := s.RunFile(*file, stdout, stderr); err != nil && !errors.Is(err, commands.ErrQuit) {
			return err
		}
	}
	if *cmds != "" {
		if err := s.Exec(*cmds, stdout, stderr); err != nil && !errors.Is(err, commands.ErrQuit) {
			// Exec printed it already: fail the run without a second line.
			return reported{err}
		}
	}
	if batch {
		return nil
	}
	// A pager only where a person reads a terminal, as crash's scroll.
	s.Scroll = isTerminal(stdout)
	// The banner crash prints before its first prompt.
	if err := s.Exec("sys", stdout, stderr); err != nil {
		fmt.Fprintln(stderr, err)
	}
	fmt.Fprintln(stdout)
	return s.Prompt(stdin, stdout, stderr, historyPath())
}

// isTerminal reports whether w is a character device (a terminal), not
// a pipe, a file or a test's buffer.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// reported is an error already printed to the user; run exits 1 on it
// without printing it again.
type reported struct{ error }

func (r reported) Unwrap() error { return r.error }

// cacheDir is $XDG_CACHE_HOME/kdumpkit (default ~/.cache/kdumpkit), where
// the DWARF name index and the prompt history are kept.
func cacheDir() string {
	dir := os.Getenv("XDG_CACHE_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(home, ".cache")
	}
	return filepath.Join(dir, "kdumpkit")
}

func historyPath() string {
	if d := cacheDir(); d != "" {
		return filepath.Join(d, "analyze_history")
	}
	return ""
}
