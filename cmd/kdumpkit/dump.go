package main

import (
	"debug/elf"
	"encoding/binary"
	"fmt"

	"github.com/kdumpkit/kdumpkit/analyze/arch"
	"github.com/kdumpkit/kdumpkit/analyze/commands"
	"github.com/kdumpkit/kdumpkit/analyze/dump"
	"github.com/kdumpkit/kdumpkit/analyze/kernel"
	"github.com/kdumpkit/kdumpkit/analyze/printk"
)

// vmcore adapts a dump file and its virtual memory to what the command
// layer needs.
type vmcore struct {
	*arch.Memory
	f    *dump.File
	cpus []kernel.CPUState
}

func (v *vmcore) Path() string                  { return v.f.Name }
func (v *vmcore) Machine() elf.Machine          { return v.f.Machine }
func (v *vmcore) ByteOrder() binary.ByteOrder   { return v.f.ByteOrder }
func (v *vmcore) PtrSize() int                  { return v.Arch.PtrSize() }
func (v *vmcore) CPUs() []kernel.CPUState       { return v.cpus }
func (v *vmcore) VMCOREINFO() map[string]string { return v.Info.Map() }
func (v *vmcore) RAMBytes() uint64              { return v.f.RAMBytes() }

// openDump opens a vmcore for analysis: memory, per-CPU registers and a
// printk reader. Truncation and unreadable notes are warnings; reads of
// what is there still work.
func openDump(path string) (commands.Dump, func() ([]commands.LogRecord, error), func(), error) {
	f, err := dump.Open(path)
	if err != nil {
		return nil, nil, nil, err
	}
	m, err := arch.NewMemory(f)
	if err != nil {
		f.Close()
		return nil, nil, nil, err
	}
	v := &vmcore{Memory: m, f: f}
	for i, desc := range f.PRStatus() {
		r, err := m.Arch.PRStatus(desc, f.ByteOrder)
		if err != nil {
			f.Close()
			return nil, nil, nil, fmt.Errorf("%s: NT_PRSTATUS %d: %w", path, i, err)
		}
		v.cpus = append(v.cpus, kernel.CPUState{CPU: i, PID: r.PID, Regs: r.Regs})
	}
	logs := func() ([]commands.LogRecord, error) {
		l, err := printk.Read(m, f.ByteOrder, m.Arch.PtrSize(), m.Info)
		if err != nil {
			return nil, err
		}
		out := make([]commands.LogRecord, len(l.Records))
		for i, r := range l.Records {
			out[i] = commands.LogRecord{Seq: r.Seq, TimeNS: r.TimeNS, Level: r.Level, Text: r.Text}
		}
		return out, nil
	}
	return v, logs, func() { f.Close() }, nil
}
