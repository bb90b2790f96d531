package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/kdumpkit/kdumpkit/analyze/dump"
	"github.com/kdumpkit/kdumpkit/analyze/escape"
	"github.com/kdumpkit/kdumpkit/analyze/printk"
)

// runDmesg prints a dump's kernel log from VMCOREINFO alone.
func runDmesg(args []string, _ io.ReadCloser, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("dmesg", flag.ContinueOnError)
	fs.SetOutput(stderr)
	levels := fs.Bool("m", false, "show each record's log level as <N>")
	asJSON := fs.Bool("json", false, "print the records as JSON")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kdumpkit dmesg [-m] [--json] VMCORE\n\nPrints the kernel log of a vmcore; needs no vmlinux (VMCOREINFO describes the ring).")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return fmt.Errorf("want one VMCORE, got %d arguments", fs.NArg())
	}
	log, err := readLog(fs.Arg(0), stderr)
	if err != nil {
		return err
	}
	if *asJSON {
		return escape.WriteJSON(stdout, log.Records)
	}
	return log.Write(stdout, *levels)
}

func readLog(path string, stderr io.Writer) (*printk.Log, error) {
	d, err := dump.Open(path)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	for _, w := range d.Warnings {
		fmt.Fprintf(stderr, "WARNING: %s\n", escape.Text(w.Error()))
	}
	log, err := printk.ReadDump(d)
	if err != nil {
		return nil, err
	}
	for _, w := range log.Warnings {
		fmt.Fprintf(stderr, "WARNING: %s\n", escape.Text(w))
	}
	return log, nil
}
