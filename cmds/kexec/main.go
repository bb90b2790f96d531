// Command kexec loads a kernel to boot on crash (-p) or on demand (-l,
// then -e), with kexec-tools' flags for what package kexec supports.
//
//	kexec -p KERNEL [--initrd=FILE] [--dtb=FILE] [--append=CMDLINE | --reuse-cmdline] [-d]
//	kexec -u [-p]
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/kdumpkit/kdumpkit/kexec"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "kexec: %v\n", err)
		os.Exit(1)
	}
}

type opts struct {
	panic, load, exec, unload, reuse, debug bool
	typ, dtb, initrd, append                string
	kernel                                  string
}

// parse accepts kexec-tools' long and short flags in any order around
// the kernel path (Go's flag package stops at the first non-flag).
func parse(args []string) (*opts, error) {
	o := &opts{}
	fs := flag.NewFlagSet("kexec", flag.ContinueOnError)
	for _, n := range []string{"p", "load-panic"} {
		fs.BoolVar(&o.panic, n, false, "load a kernel to boot on panic")
	}
	for _, n := range []string{"l", "load"} {
		fs.BoolVar(&o.load, n, false, "load a kernel to boot with -e")
	}
	for _, n := range []string{"e", "exec"} {
		fs.BoolVar(&o.exec, n, false, "boot the loaded kernel now")
	}
	for _, n := range []string{"u", "unload"} {
		fs.BoolVar(&o.unload, n, false, "unload the (crash, with -p) kernel")
	}
	for _, n := range []string{"d", "debug"} {
		fs.BoolVar(&o.debug, n, false, "print the segments as kexec-tools -d does")
	}
	fs.StringVar(&o.typ, "type", "", "zImage, Image or bzImage (checked against the file)")
	fs.StringVar(&o.typ, "t", "", "same as --type")
	fs.StringVar(&o.dtb, "dtb", "", "device tree (default /sys/firmware/fdt)")
	fs.StringVar(&o.initrd, "initrd", "", "initramfs for the new kernel")
	fs.StringVar(&o.initrd, "ramdisk", "", "same as --initrd")
	for _, n := range []string{"append", "command-line"} {
		fs.StringVar(&o.append, n, "", "the new kernel's command line")
	}
	fs.BoolVar(&o.reuse, "reuse-cmdline", false, "start from this kernel's command line")
	for rest := args; len(rest) > 0; {
		if err := fs.Parse(rest); err != nil {
			return nil, err
		}
		rest = fs.Args()
		if len(rest) > 0 {
			if o.kernel != "" {
				return nil, fmt.Errorf("two kernels given: %s and %s", o.kernel, rest[0])
			}
			o.kernel, rest = rest[0], rest[1:]
		}
	}
	return o, nil
}

func run(args []string) error {
	o, err := parse(args)
	if err != nil {
		return err
	}
	switch {
	case o.unload:
		return kexec.Unload(o.panic)
	case o.exec:
		return kexec.Exec()
	case !o.panic && !o.load:
		return fmt.Errorf("want -p, -l, -e or -u")
	case o.kernel == "":
		return fmt.Errorf("no kernel image given")
	}
	if o.typ != "" && !strings.EqualFold(o.typ, "zImage") && !strings.EqualFold(o.typ, "Image") && !strings.EqualFold(o.typ, "bzImage") {
		return fmt.Errorf("--type %s: want zImage, Image or bzImage", o.typ)
	}
	cmdline := o.append
	if o.reuse {
		b, err := os.ReadFile("/proc/cmdline")
		if err != nil {
			return err
		}
		cmdline = strings.TrimSpace(strings.TrimSpace(string(b)) + " " + cmdline)
	}
	lo := kexec.Options{Kernel: o.kernel, Initrd: o.initrd, DTB: o.dtb, Cmdline: cmdline, Crash: o.panic, Root: "/"}
	if o.debug {
		lo.Debug = os.Stderr
	}
	return kexec.Load(lo)
}
