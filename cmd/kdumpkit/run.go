package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
)

// subcommand is one `kdumpkit NAME` entry.
type subcommand struct {
	run   func(args []string, stdin io.ReadCloser, stdout, stderr io.Writer) error
	usage string
}

// subcommands is the dispatch table; each file adds its own line here.
var subcommands = map[string]subcommand{
	"analyze":      {runAnalyze, "analyze [-c \"cmd; cmd\"] [-i FILE] [--json] VMLINUX VMCORE   crash-like analysis"},
	"dump-convert": {runDumpConvert, "dump-convert [-d LEVEL] [-c zstd|zlib|none] [-F] VMCORE OUT   ELF vmcore → filtered kdump-compressed dump"},
	"reassemble":   {runReassemble, "reassemble FLAT OUT | PART PART... OUT                       flattened stream or split parts → one kdump-compressed file"},
	"dmesg":        {runDmesg, "dmesg [-m] [--json] VMCORE                                  the kernel log, no vmlinux needed"},
	"receive":      {runReceive, "receive [-listen 127.0.0.1:8123] [-dir DIR] [-token T] [-once]  take dumps uploaded over HTTP by the capture tool"},
}

// run returns the process exit status: 0, 1 on failure, 2 on bad usage.
func run(args []string, stdin io.ReadCloser, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		return 0
	}
	sub, ok := subcommands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "kdumpkit: unknown subcommand %q\n", args[0])
		usage(stderr)
		return 2
	}
	if err := sub.run(args[1:], stdin, stdout, stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		if _, ok := err.(reported); ok {
			return 1
		}
		fmt.Fprintf(stderr, "kdumpkit %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: kdumpkit SUBCOMMAND [ARGS]\n\nsubcommands:")
	var names []string
	for n := range subcommands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %s\n", subcommands[n].usage)
	}
}
