package commands

import (
	"io"
	"strconv"

	"github.com/kdumpkit/kdumpkit/analyze/disasm"
	"github.com/kdumpkit/kdumpkit/analyze/lines"

	"github.com/kdumpkit/kdumpkit/analyze/kernel"
)

// LogRecord is one printk record.
type LogRecord = kernel.LogRecord

// Open is the whole set-up for a library caller (kdump:test compares sys,
// ps and bt with what the guest printed): kernel.Open's program and a
// session whose context is the panic task. Warnings go to warn; close
// releases both files.
func Open(vmlinux, vmcore, cacheDir string, warn io.Writer) (s *Session, close func() error, err error) {
	p, err := kernel.Open(vmlinux, vmcore, cacheDir, warnTo(warn))
	if err != nil {
		return nil, nil, err
	}
	return sessionFor(p, p.Log, warn), p.Close, nil
}

// NewSession checks that img describes d (kernel.NewProgram) and returns a
// session whose context is the panic task. printk may be nil.
func NewSession(img *kernel.Image, d kernel.Dump, printk func() ([]LogRecord, error), warn io.Writer) (*Session, error) {
	p, err := kernel.NewProgram(img, d, warnTo(warn))
	if err != nil {
		return nil, err
	}
	return sessionFor(p, printk, warn), nil
}

func sessionFor(p *kernel.Program, printk func() ([]LogRecord, error), warn io.Writer) *Session {
	s := &Session{
		Kernel: p.Kernel, Unwind: p.Image.Unwind, Printk: printk,
		KernelPath: p.Image.Path, DumpPath: p.Dump.Path(), DumpRAM: p.Dump.RAMBytes(),
		Partial: p.Partial, Unverified: p.Unverified,
		Machine: p.Dump.Arch().Name(), Warn: warn,
	}
	s.Decoder, _ = disasm.For(p.Dump.Machine()) // nil: dis says why
	if p.Image.ELF != nil {
		off, _ := strconv.ParseUint(p.Kernel.VMCOREINFO["KERNELOFFSET"], 16, 64)
		s.Lines = lines.New(p.Image.ELF, off)
	}
	return s
}

// warnTo prints each warning as a WARNING line on w.
func warnTo(w io.Writer) func(error) {
	return func(err error) { writeWarning(w, err.Error()) }
}
