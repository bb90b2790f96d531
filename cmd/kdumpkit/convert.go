package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/kdumpkit/kdumpkit/analyze/dump"
	"github.com/kdumpkit/kdumpkit/analyze/memmap"
	"github.com/kdumpkit/kdumpkit/diskdump"
	"github.com/kdumpkit/kdumpkit/dumpconv"
)

// runDumpConvert is `kdumpkit dump-convert [-d LEVEL] [-c zstd|zlib|none]
// [-F] VMCORE OUT`: makedumpfile's job on the host, for an ELF vmcore
// brought home raw.
func runDumpConvert(args []string, _ io.ReadCloser, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("dump-convert", flag.ContinueOnError)
	fs.SetOutput(stderr)
	level := fs.Int("d", 31, "dump level, a bitmask: 1 zero pages, 2 non-private cache, 4 private cache, 8 user, 16 free")
	comp := fs.String("c", "zstd", "page compression: zstd, zlib or none")
	flat := fs.Bool("F", false, "write the flattened stream (makedumpfile -F) instead of the seekable file")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kdumpkit dump-convert [-d LEVEL] [-c zstd|zlib|none] [-F] VMCORE OUT\n\nWrites an ELF vmcore as a filtered makedumpfile kdump-compressed dump (crash and the analyzer read it).")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		fs.Usage()
		return fmt.Errorf("want VMCORE and OUT, got %d arguments", fs.NArg())
	}
	c, err := diskdump.ParseCompression(*comp)
	if err != nil {
		return err
	}
	e, err := dump.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer e.Close()
	outPath := fs.Arg(1)
	tmp, err := os.CreateTemp(filepath.Dir(outPath), "."+filepath.Base(outPath)+".part-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	var out io.WriterAt = tmp
	bw := bufio.NewWriterSize(tmp, 1<<20)
	fw := diskdump.NewFlatWriter(bw)
	if *flat {
		out = fw
	}
	st, err := dumpconv.Convert(e, out, dumpconv.Options{Level: *level, Compression: c})
	if err == nil && *flat {
		if err = fw.Close(); err == nil {
			err = bw.Flush()
		}
	}
	if err == nil {
		err = tmp.Sync()
	}
	if err == nil {
		err = tmp.Chmod(0o644) // CreateTemp's 0600 is for the part; the dump is a plain file
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), outPath); err != nil {
		return err
	}
	in, _ := os.Stat(fs.Arg(0))
	got, _ := os.Stat(outPath)
	fmt.Fprintf(stdout, "%s: level %d, %s: %d of %d RAM pages dumped (excluded: cache %d, private cache %d, user %d, free %d); %d bytes, %.1f× smaller than %s\n",
		outPath, *level, c, st.Dumped, st.RAMPages, st.Filter.Count(memmap.Cache), st.Filter.Count(memmap.CachePrivate),
		st.Filter.Count(memmap.User), st.Filter.Count(memmap.Free), got.Size(), float64(in.Size())/float64(max(got.Size(), 1)), fs.Arg(0))
	if st.Filter.Unreadable > 0 {
		fmt.Fprintf(stderr, "WARNING: %d struct pages could not be read: their pages were kept\n", st.Filter.Unreadable)
	}
	return nil
}

// runReassemble is `kdumpkit reassemble FLAT OUT`: makedumpfile -R, a
// flattened stream rewritten as the seekable dump it stands for.
func runReassemble(args []string, stdin io.ReadCloser, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("reassemble", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kdumpkit reassemble FLAT OUT\n\nRewrites a flattened makedumpfile stream (makedumpfile -F, the capture tool's stream targets) as the kdump-compressed file it stands for; FLAT \"-\" reads standard input.")
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		fs.Usage()
		return fmt.Errorf("want FLAT and OUT, got %d arguments", fs.NArg())
	}
	var in io.Reader = stdin
	if fs.Arg(0) != "-" {
		f, err := dump.OpenRegular(fs.Arg(0))
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	out, err := os.Create(fs.Arg(1))
	if err != nil {
		return err
	}
	defer out.Close()
	n, err := diskdump.Reassemble(out, bufio.NewReaderSize(in, 1<<20))
	if errors.Is(err, diskdump.ErrNotFlat) {
		os.Remove(fs.Arg(1))
		return fmt.Errorf("%s: %w", fs.Arg(0), err)
	}
	if err != nil {
		return fmt.Errorf("%s: %w (the %d bytes written to %s are incomplete)", fs.Arg(0), err, n, fs.Arg(1))
	}
	fmt.Fprintf(stdout, "%s: %d bytes\n", fs.Arg(1), n)
	return out.Sync()
}
