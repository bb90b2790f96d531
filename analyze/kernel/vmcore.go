package kernel

import (
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/kdumpkit/kdumpkit/analyze/arch"
	"github.com/kdumpkit/kdumpkit/analyze/dump"
	"github.com/kdumpkit/kdumpkit/analyze/printk"
)

// Vmcore is an ELF vmcore opened through analyze/dump and analyze/arch,
// seen as the Dump the commands need.
type Vmcore struct {
	File *dump.File
	Mem  *arch.Memory
	cpus []CPUState
	info map[string]string
}

// OpenVmcore opens path and sets up virtual reads and the CPU notes.
// Problems that leave the dump partly readable (a truncated file, an
// undecodable CPU note) are returned as warnings.
func OpenVmcore(path string) (*Vmcore, []error, error) {
	f, err := dump.Open(path)
	if err != nil {
		return nil, nil, err
	}
	mem, err := arch.NewMemory(f)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	v := &Vmcore{File: f, Mem: mem, info: mem.Info.Map()}
	warns := append([]error(nil), f.Warnings...)
	for i, desc := range f.PRStatus() {
		r, err := arch.PRStatus(mem.Arch, desc, f.ByteOrder)
		if err != nil {
			warns = append(warns, fmt.Errorf("%s: NT_PRSTATUS %d: %w", path, i, err))
			continue
		}
		// Notes come in CPU order (crash_notes is per CPU, online ones only).
		v.cpus = append(v.cpus, CPUState{CPU: i, PID: r.PID, Regs: r.Regs})
	}
	return v, warns, nil
}

// Close closes the file.
func (v *Vmcore) Close() error { return v.File.Close() }

// ReadVirt reads kernel virtual memory.
func (v *Vmcore) ReadVirt(addr uint64, buf []byte) error { return v.Mem.ReadVirt(addr, buf) }

// Path is the file name given to OpenVmcore.
func (v *Vmcore) Path() string { return v.File.Name }

// Machine is the dump's ELF machine.
func (v *Vmcore) Machine() elf.Machine { return v.File.Machine }

// ByteOrder is the dump's byte order.
func (v *Vmcore) ByteOrder() binary.ByteOrder { return v.File.ByteOrder }

// PtrSize is the kernel's pointer size.
func (v *Vmcore) PtrSize() int { return v.Mem.Arch.PtrSize() }

// Arch is the dump's architecture.
func (v *Vmcore) Arch() arch.Arch { return v.Mem.Arch }

// CPUs are the CPUs with an NT_PRSTATUS note.
func (v *Vmcore) CPUs() []CPUState { return v.cpus }

// VMCOREINFO is the parsed note as key=value pairs.
func (v *Vmcore) VMCOREINFO() map[string]string { return v.info }

// RAMBytes is the memory the PT_LOADs cover.
func (v *Vmcore) RAMBytes() uint64 { return v.File.RAMBytes() }

// LogRecord is one printk record.
type LogRecord struct {
	Seq    uint64 `json:"seq"`
	TimeNS uint64 `json:"ts_nsec"`
	Level  int    `json:"level"`
	Text   string `json:"text"`
}

// Printk returns a reader of the dump's kernel log (analyze/printk, from
// VMCOREINFO alone), reading the ring once and keeping the records.
// Records the ring could not give are reported as one error beside the
// records that were read, counting the records missing (printk.Log.Summary).
func (v *Vmcore) Printk() func() ([]LogRecord, error) {
	var once sync.Once
	var recs []LogRecord
	var err error
	return func() ([]LogRecord, error) {
		once.Do(func() {
			log, rerr := printk.Read(v.Mem, v.File.ByteOrder, v.PtrSize(), v.Mem.Info)
			if rerr != nil {
				err = fmt.Errorf("%s: %w", v.Path(), rerr)
				return
			}
			for _, r := range log.Records {
				recs = append(recs, LogRecord{Seq: r.Seq, TimeNS: r.TimeNS, Level: r.Level, Text: r.Text})
			}
			if sum := log.Summary(); sum != "" {
				err = errors.New(sum)
			}
		})
		return recs, err
	}
}
