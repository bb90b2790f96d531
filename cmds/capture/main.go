// Command capture runs in the capture kernel: it saves /proc/vmcore and
// its kernel log to the dump targets, in order, with fallback (package
// capture), and prints the VMCORE SAVED marker the host waits for.
//
//	capture [-vmcore /proc/vmcore] [-targets 9p,disk:/dev/vda,…] [-format elf|kdump] [-level 31] [-compress zstd]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/kdumpkit/kdumpkit/capture"
	"github.com/kdumpkit/kdumpkit/protocol"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintf(os.Stdout, "%s %v\n", protocol.MarkerCaptureFailed, err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, console io.Writer) error {
	fs := flag.NewFlagSet("capture", flag.ContinueOnError)
	vmcore := fs.String("vmcore", "/proc/vmcore", "the dump to save")
	targets := fs.String("targets", "9p,disk", "dump targets in order: 9p[:TAG], disk[:/DEV], dir:/PATH, http://[TOKEN@]HOST:PORT/")
	format := fs.String("format", protocol.FormatELF, "elf: /proc/vmcore as it is; kdump: makedumpfile's kdump-compressed format, filtered by -level")
	level := fs.Int("level", 31, "kdump dump level, a bitmask: 1 zero pages, 2 non-private cache, 4 private cache, 8 user, 16 free")
	compress := fs.String("compress", "zstd", "kdump page compression: zstd, zlib or none")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *format != protocol.FormatELF && *format != protocol.FormatKdump {
		return fmt.Errorf("-format %q: want %s or %s", *format, protocol.FormatELF, protocol.FormatKdump)
	}
	specs, err := protocol.ParseSpecs(*targets)
	if err != nil {
		return err
	}
	f, err := os.Open(*vmcore)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	src := capture.Source{Vmcore: f, VmcoreSize: st.Size()}
	src.Dmesg, src.Release, err = kernelLog(*vmcore)
	if err != nil {
		// The vmcore is still worth saving without its log.
		fmt.Fprintf(console, "capture: no dmesg.txt: %v\n", err)
	}
	fmt.Fprintf(console, "capture: %s is %d bytes (%d MiB)\n", *vmcore, st.Size(), st.Size()>>20)
	if *format == protocol.FormatKdump {
		close, err := compressed(&src, *vmcore, *level, *compress, console)
		if err != nil {
			return err
		}
		defer close()
	}
	var ts []capture.Target
	for _, s := range specs {
		ts = append(ts, target(s, console))
	}
	m, err := capture.Save(ctx, src, ts, console)
	if err != nil {
		return err
	}
	v, _ := m.File(capture.VmcoreName)
	fmt.Fprintln(console, protocol.Saved{Target: m.Target, Size: v.Size, SHA256: v.SHA256})
	return nil
}
