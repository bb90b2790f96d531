// Command kexec loads a kernel to boot on crash (-p) or on demand (-l,
// then -e), with kexec-tools' flags for what package kexec supports.
//
//	kexec -p KERNEL [--initrd=FILE] [--dtb=FILE] [--append=CMDLINE | --reuse-cmdline] [-a | -s | -c] [-d]
//	kexec -u [-p]
//
// -a (the default) loads with kexec_file_load and falls back to kexec_load
// when the kernel cannot (no KEXEC_FILE, or no loader for the image); -s
// uses kexec_file_load only, -c kexec_load only (ARM32 has only
// kexec_load, x86_64 only kexec_file_load here). A load prints which
// system call loaded the kernel and, after a fallback, why.
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
	method                                  kexec.Method
}

// methodFlag sets o.method to m when given; a second, different one is
// refused.
type methodFlag struct {
	o *opts
	m kexec.Method
}

func (f methodFlag) IsBoolFlag() bool { return true }
func (f methodFlag) String() string   { return "" }
func (f methodFlag) Set(v string) error {
	if v != "true" {
		return fmt.Errorf("takes no value")
	}
	if f.o.method != "" && f.o.method != f.m {
		return fmt.Errorf("only one of -a, -s and -c")
	}
	f.o.method = f.m
	return nil
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
	for _, m := range []struct {
		names []string
		m     kexec.Method
		usage string
	}{
		{[]string{"a", "kexec-syscall-auto"}, kexec.MethodAuto, "kexec_file_load, then kexec_load if the kernel cannot (the default)"},
		{[]string{"s", "kexec-file-syscall"}, kexec.MethodFile, "kexec_file_load only"},
		{[]string{"c", "kexec-syscall"}, kexec.MethodLoad, "kexec_load only, with the segments built here"},
	} {
		for _, n := range m.names {
			fs.Var(methodFlag{o, m.m}, n, m.usage)
		}
	}
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
	lo := kexec.Options{Kernel: o.kernel, Initrd: o.initrd, DTB: o.dtb, Cmdline: cmdline, Crash: o.panic, Method: o.method, Root: "/"}
	if o.debug {
		lo.Debug = os.Stderr
	}
	loaded, err := kexec.Load(lo)
	if err != nil {
		return err
	}
	fmt.Printf("kexec: %s\n", loaded)
	return nil
}
