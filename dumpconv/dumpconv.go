// Package dumpconv turns an ELF vmcore — /proc/vmcore in the capture
// kernel, or a dump brought home raw — into a filtered kdump-compressed
// dump: makedumpfile's job (`makedumpfile -d LEVEL -z`), from VMCOREINFO
// alone, so the same code runs on the board (capture) and on the host
// (kdumpkit dump-convert).
package dumpconv

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"io"
	"time"

	"github.com/kdumpkit/kdumpkit/analyze/arch"
	"github.com/kdumpkit/kdumpkit/analyze/dump"
	"github.com/kdumpkit/kdumpkit/analyze/memmap"
	"github.com/kdumpkit/kdumpkit/analyze/vmcoreinfo"
	"github.com/kdumpkit/kdumpkit/diskdump"
)

// Options choose the filter and the compression.
type Options struct {
	Level       int // makedumpfile's -d bitmask, 0 to 31
	Compression diskdump.Compression
	// Progress, when set, is called now and then with pages written and
	// the total.
	Progress func(done, total uint64)
}

// Stats says what a conversion kept and dropped.
type Stats struct {
	RAMPages, Dumped, Zero uint64
	Filter                 memmap.Stats
	Model                  string // where the struct pages were found
	PageSize               int
}

// readRun is how many contiguous pages are read from the vmcore at once:
// /proc/vmcore maps each read, so fewer, larger reads are faster.
const readRun = 256

// Convert reads the ELF vmcore e and writes its filtered, compressed dump
// to out (a file, or a diskdump.FlatWriter for a stream). A page that
// cannot be read fails the conversion: the output then says incomplete.
func Convert(e *dump.File, out io.WriterAt, opt Options) (*Stats, error) {
	if e.Format != dump.FormatELF {
		return nil, fmt.Errorf("%s is %s: want an ELF vmcore", e.Name, e.Format)
	}
	if opt.Level < 0 || opt.Level > memmap.MaxLevel {
		return nil, fmt.Errorf("dump level %d: want 0 to 31", opt.Level)
	}
	mem, err := arch.NewMemory(e)
	if err != nil {
		return nil, err
	}
	info := mem.Info
	bs := info.PageSize()
	if bs < 1024 || bs > 1<<20 || bs&(bs-1) != 0 {
		return nil, fmt.Errorf("%s: VMCOREINFO PAGESIZE %d", e.Name, bs)
	}
	uts := utsname(mem, info, e.Machine)
	physBase := physBase(e, info)
	pfnOff := diskdump.PFNOffset(uts.Machine, physBase, int(bs))
	var top uint64
	for _, s := range e.Loads {
		top = max(top, s.Paddr+s.Memsz)
	}
	if top/bs <= pfnOff {
		return nil, fmt.Errorf("%s: RAM ends at %#x, below phys_base %#x", e.Name, top, physBase)
	}
	maxMapnr := (top+bs-1)/bs - pfnOff
	present, dumped := diskdump.NewBitmap(maxMapnr), diskdump.NewBitmap(maxMapnr)
	st := &Stats{PageSize: int(bs)}
	for _, s := range e.Loads {
		for pa := s.Paddr &^ (bs - 1); pa < s.Paddr+s.Memsz; pa += bs {
			i := pa/bs - pfnOff
			if pa/bs < pfnOff || i >= maxMapnr {
				continue
			}
			present.Set(i)
			if pa+bs <= s.Paddr+s.Filesz { // pages past p_filesz have no data (makedumpfile's exclude_nodata_pages)
				dumped.Set(i)
			}
		}
	}
	st.RAMPages = present.Count()
	if opt.Level&^memmap.ExcludeZero != 0 {
		f, err := memmap.New(mem, e.ByteOrder, mem.Arch.PtrSize(), info, pfnOff)
		if err != nil {
			return nil, fmt.Errorf("%s: dump level %d needs mem_map: %w", e.Name, opt.Level, err)
		}
		st.Model = f.Model
		st.Filter = f.Exclude(opt.Level, pfnOff, pfnOff+maxMapnr, func(pfn uint64) bool { return present.Test(pfn - pfnOff) },
			func(pfn, n uint64, _ memmap.Class) {
				for p := pfn; p < pfn+n && p-pfnOff < maxMapnr; p++ {
					dumped.Clear(p - pfnOff)
				}
			})
	}
	var notes []byte
	nrCPUs := 0
	for _, n := range e.Notes {
		notes = append(notes, noteBytes(e.ByteOrder, n)...)
		if n.Name == "CORE" && n.Type == uint32(elf.NT_PRSTATUS) {
			nrCPUs++
		}
	}
	ts := time.Now()
	if t, err := info.CrashTime(); err == nil {
		ts = time.Unix(t, 0)
	}
	w, err := diskdump.NewWriter(out, diskdump.Config{Layout: diskdump.LayoutFor(uts.Machine, e.ByteOrder), Utsname: uts,
		Timestamp: ts, BlockSize: int(bs), PhysBase: physBase, DumpLevel: opt.Level, MaxMapnr: maxMapnr,
		NrCPUs: max(nrCPUs, 1), Notes: notes, Compression: opt.Compression}, present, dumped)
	if err != nil {
		return nil, err
	}
	if err := copyPages(e, w, dumped, bs, opt); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	st.Dumped = w.Total()
	return st, nil
}

// copyPages reads the dumped pfns in runs and hands them to the writer.
func copyPages(e *dump.File, w *diskdump.Writer, dumped *diskdump.Bitmap, bs uint64, opt Options) error {
	buf := make([]byte, readRun*bs)
	pfnOff, total := w.PFNOffset(), w.Total()
	for i, ok := dumped.Next(0); ok; {
		n := uint64(1)
		for n < readRun && dumped.Test(i+n) {
			n++
		}
		if err := e.ReadPhys(buf[:n*bs], (i+pfnOff)*bs); err != nil {
			return fmt.Errorf("reading physical %#x-%#x: %w", (i+pfnOff)*bs, (i+n+pfnOff)*bs, err)
		}
		for k := uint64(0); k < n; k++ {
			if err := w.WritePage(i+k, buf[k*bs:(k+1)*bs]); err != nil {
				return err
			}
		}
		if opt.Progress != nil {
			opt.Progress(w.Written(), total)
		}
		i, ok = dumped.Next(i + n)
	}
	return nil
}

// utsname reads init_uts_ns.name from the dump, as makedumpfile does; a
// kernel whose name cannot be read still gets its release from VMCOREINFO
// and a machine name from the ELF machine (crash keys on its prefix).
func utsname(mem *arch.Memory, info *vmcoreinfo.Info, m elf.Machine) diskdump.Utsname {
	u := diskdump.Utsname{Sysname: "Linux", Release: info.OSRelease(), Machine: map[elf.Machine]string{
		elf.EM_ARM: "arm", elf.EM_AARCH64: "aarch64", elf.EM_X86_64: "x86_64"}[m]}
	sym, err1 := info.Symbol("init_uts_ns")
	off, err2 := info.Offset("uts_namespace", "name")
	if err1 != nil || err2 != nil {
		return u
	}
	b := make([]byte, 6*65)
	if mem.ReadVirt(sym+off, b) != nil {
		return u
	}
	var got diskdump.Utsname
	for i, s := range []*string{&got.Sysname, &got.Nodename, &got.Release, &got.Version, &got.Machine, &got.Domainname} {
		f := b[i*65 : (i+1)*65]
		if j := bytes.IndexByte(f, 0); j >= 0 {
			f = f[:j]
		}
		*s = string(f)
	}
	if got.Release != u.Release || got.Machine == "" { // not the utsname we expected: keep what VMCOREINFO says
		return u
	}
	return got
}

// physBase is kdump_sub_header.phys_base as makedumpfile fills it: ARM
// and (without NUMBER(PHYS_OFFSET)) arm64 take the lowest PT_LOAD; arm64
// exports PHYS_OFFSET, x86_64 its kernel's phys_base.
func physBase(e *dump.File, info *vmcoreinfo.Info) uint64 {
	lowest := e.Loads[0].Paddr
	switch e.Machine {
	case elf.EM_AARCH64:
		if v, err := info.PhysOffset(); err == nil {
			return v
		}
	case elf.EM_X86_64:
		v, _ := info.Number("phys_base")
		return v
	}
	return lowest
}

// noteBytes encodes one ELF note (Elf32_Nhdr and Elf64_Nhdr are alike).
func noteBytes(bo binary.ByteOrder, n dump.Note) []byte {
	name := append([]byte(n.Name), 0)
	b := make([]byte, 12, 12+len(name)+len(n.Desc)+8)
	bo.PutUint32(b, uint32(len(name)))
	bo.PutUint32(b[4:], uint32(len(n.Desc)))
	bo.PutUint32(b[8:], n.Type)
	b = append(b, name...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	b = append(b, n.Desc...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}
