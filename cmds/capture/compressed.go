package main

import (
	"fmt"
	"io"
	"time"

	"github.com/kdumpkit/kdumpkit/analyze/dump"
	"github.com/kdumpkit/kdumpkit/analyze/memmap"
	"github.com/kdumpkit/kdumpkit/capture"
	"github.com/kdumpkit/kdumpkit/diskdump"
	"github.com/kdumpkit/kdumpkit/dumpconv"
)

// compressed makes src write a filtered kdump-compressed dump of the ELF
// vmcore at path instead of copying it, printing progress and, at the
// end, what was kept and the throughput.
func compressed(src *capture.Source, path string, level int, compress string, console io.Writer) (func() error, error) {
	c, err := diskdump.ParseCompression(compress)
	if err != nil {
		return nil, err
	}
	e, err := dump.Open(path)
	if err != nil {
		return nil, err
	}
	src.Detail = fmt.Sprintf("dump level %d, %s", level, c)
	src.Compressed = func(out io.WriterAt) error {
		start, last := time.Now(), time.Now()
		st, err := dumpconv.Convert(e, out, dumpconv.Options{Level: level, Compression: c, Progress: func(done, total uint64) {
			if now := time.Now(); now.Sub(last) >= 2*time.Second {
				last = now
				fmt.Fprintf(console, "capture: vmcore %3.0f%% %d/%d pages\n", 100*float64(done)/float64(max(total, 1)), done, total)
			}
		}})
		if err != nil {
			return err
		}
		secs := max(time.Since(start).Seconds(), 1e-3)
		ram := float64(st.RAMPages) * float64(st.PageSize)
		fmt.Fprintf(console, "capture: kdump-compressed, level %d, %s: %d of %d RAM pages kept (excluded: cache %d, private cache %d, user %d, free %d) in %.1fs, %.1f MB/s of RAM\n",
			level, c, st.Dumped, st.RAMPages, st.Filter.Count(memmap.Cache), st.Filter.Count(memmap.CachePrivate), st.Filter.Count(memmap.User), st.Filter.Count(memmap.Free),
			secs, ram/1e6/secs)
		return nil
	}
	return e.Close, nil
}
