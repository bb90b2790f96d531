package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

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

// runReassemble is `kdumpkit reassemble FLAT OUT` (makedumpfile -R: a
// flattened stream rewritten as the seekable dump it stands for) and
// `kdumpkit reassemble PART PART... OUT` (makedumpfile --reassemble: the
// parts of a split dump joined into one).
func runReassemble(args []string, stdin io.ReadCloser, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("reassemble", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kdumpkit reassemble FLAT OUT\n       kdumpkit reassemble PART PART... OUT\n\nRewrites a flattened makedumpfile stream (makedumpfile -F, the capture tool's stream targets) as the kdump-compressed file it stands for (FLAT \"-\" reads standard input), or joins the parts of a split dump (makedumpfile --split) into one file.")
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() < 2 {
		fs.Usage()
		return fmt.Errorf("want FLAT and OUT, or split PARTs and OUT, got %d arguments", fs.NArg())
	}
	ins, outPath := fs.Args()[:fs.NArg()-1], fs.Arg(fs.NArg()-1)
	if len(ins) > 1 {
		return joinParts(ins, outPath, stdout)
	}
	var in io.Reader = stdin
	if ins[0] != "-" {
		f, err := dump.OpenRegular(ins[0])
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	out, err := os.Create(outPath)
	if err != nil {
		return err
	}
	defer out.Close()
	n, err := diskdump.Reassemble(out, bufio.NewReaderSize(in, 1<<20))
	if errors.Is(err, diskdump.ErrNotFlat) {
		os.Remove(outPath)
		return fmt.Errorf("%s: %w (a split part needs its sibling parts: reassemble PART PART... OUT)", ins[0], err)
	}
	if err != nil {
		return fmt.Errorf("%s: %w (the %d bytes written to %s are incomplete)", ins[0], err, n, outPath)
	}
	fmt.Fprintf(stdout, "%s: %d bytes\n", outPath, n)
	return out.Sync()
}

// joinParts joins split parts into outPath, written under a temporary
// name and renamed when whole.
func joinParts(ins []string, outPath string, stdout io.Writer) error {
	var parts []*diskdump.File
	for _, p := range ins {
		f, err := dump.OpenRegular(p)
		if err != nil {
			return err
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return err
		}
		kd, err := diskdump.New(f, st.Size())
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		parts = append(parts, kd)
	}
	tmp, err := os.CreateTemp(filepath.Dir(outPath), "."+filepath.Base(outPath)+".part-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	w, err := diskdump.Join(tmp, parts)
	if err == nil {
		err = tmp.Sync()
	}
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if err != nil {
		return fmt.Errorf("joining %s: %w", strings.Join(ins, ", "), err)
	}
	if err := os.Rename(tmp.Name(), outPath); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d split parts joined, %d pages, %d bytes\n", outPath, len(parts), w.Total(), w.Size())
	return nil
}
