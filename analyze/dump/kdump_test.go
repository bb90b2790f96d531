package dump_test

import (
	"bufio"
	"errors"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kdumpkit/kdumpkit/analyze/dump"
	"github.com/kdumpkit/kdumpkit/analyze/printk"
	"github.com/kdumpkit/kdumpkit/diskdump"
	"github.com/kdumpkit/kdumpkit/internal/testdump"
)

// excludedRun is a run of pfns the test leaves out of its compressed
// copy, to see them read as excluded.
const excludedFrom, excludedPages = 0x61000, 16

// compress writes e (an ELF vmcore) as a kdump-compressed file, every RAM
// page dumped but the excluded run, labelled dump level 31; flat writes
// the flattened stream instead.
func compress(t *testing.T, e *dump.File, path string, flat bool) {
	t.Helper()
	const bs = 4096
	var notes []byte
	for _, n := range e.Notes {
		notes = append(notes, noteBytes(n)...)
	}
	physBase := e.Loads[0].Paddr
	maxMapnr := (e.Loads[len(e.Loads)-1].Paddr + e.Loads[len(e.Loads)-1].Memsz - physBase) / bs
	present, dumped := diskdump.NewBitmap(maxMapnr), diskdump.NewBitmap(maxMapnr)
	for _, s := range e.Loads {
		for pa := s.Paddr; pa < s.Paddr+s.Memsz; pa += bs {
			present.Set((pa - physBase) / bs)
			if pfn := pa / bs; pfn < excludedFrom || pfn >= excludedFrom+excludedPages {
				dumped.Set((pa - physBase) / bs)
			}
		}
	}
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	var dst interface {
		WriteAt([]byte, int64) (int, error)
	} = out
	bw := bufio.NewWriterSize(out, 1<<20)
	fw := diskdump.NewFlatWriter(bw)
	if flat {
		dst = fw
	}
	w, err := diskdump.NewWriter(dst, diskdump.Config{Layout: diskdump.LayoutARM,
		Utsname:   diskdump.Utsname{Sysname: "Linux", Release: "6.1", Machine: "armv7l"},
		Timestamp: time.Unix(1795466427, 0), BlockSize: bs, PhysBase: physBase, DumpLevel: 31,
		MaxMapnr: maxMapnr, NrCPUs: 1, Notes: notes, Compression: diskdump.Zstd}, present, dumped)
	if err != nil {
		t.Fatal(err)
	}
	page := make([]byte, bs)
	for i, ok := dumped.Next(0); ok; i, ok = dumped.Next(i + 1) {
		if err := e.ReadPhys(page, physBase+i*bs); err != nil {
			t.Fatal(err)
		}
		if err := w.WritePage(i, page); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if flat {
		if err := fw.Close(); err != nil {
			t.Fatal(err)
		}
		if err := bw.Flush(); err != nil {
			t.Fatal(err)
		}
	}
}

func noteBytes(n dump.Note) []byte {
	pad := func(b []byte) []byte {
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
		return b
	}
	h := make([]byte, 12)
	le := func(b []byte, v int) { b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24) }
	le(h, len(n.Name)+1)
	le(h[4:], len(n.Desc))
	le(h[8:], int(n.Type))
	return append(pad(append(h, append([]byte(n.Name), 0)...)), pad(append([]byte(nil), n.Desc...))...)
}

// TestKdumpCompressedReadsAsTheELF: the real vexpress dump, rewritten
// kdump-compressed (plain and flattened), gives the same notes, RAM map,
// bytes and kernel log through dump.File, and the pages left out read as
// excluded with their address and level.
func TestKdumpCompressedReadsAsTheELF(t *testing.T) {
	td := testdump.Require(t)
	e, err := dump.Open(td.Vmcore)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	want, err := printk.ReadDump(e)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, flat := range []bool{false, true} {
		path := filepath.Join(dir, map[bool]string{false: "vmcore.kdump", true: "vmcore.flat"}[flat])
		compress(t, e, path, flat)
		k, err := dump.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer k.Close()
		wantFormat := map[bool]string{false: dump.FormatKdump, true: dump.FormatKdumpFlat}[flat]
		if k.Format != wantFormat || k.Machine != e.Machine || k.Class != e.Class || k.ByteOrder != e.ByteOrder || len(k.Warnings) != 0 {
			t.Errorf("%s: format %q machine %v class %v warnings %v", path, k.Format, k.Machine, k.Class, k.Warnings)
		}
		if !reflect.DeepEqual(k.PRStatus(), e.PRStatus()) {
			t.Errorf("%s: PRSTATUS notes differ", path)
		}
		vk, _ := k.VMCOREINFO()
		ve, _ := e.VMCOREINFO()
		if string(vk) != string(ve) {
			t.Errorf("%s: VMCOREINFO differs", path)
		}
		for i, s := range k.Loads {
			if i >= len(e.Loads) || s.Paddr != e.Loads[i].Paddr || s.Vaddr != e.Loads[i].Vaddr || s.Memsz != e.Loads[i].Memsz {
				t.Errorf("%s: segment %d %+v, the ELF's %+v", path, i, s, e.Loads)
			}
		}
		r := rand.New(rand.NewSource(3))
		a, b := make([]byte, 300), make([]byte, 300)
		for i := 0; i < 3000; i++ {
			s := e.Loads[r.Intn(len(e.Loads))]
			pa := s.Paddr + uint64(r.Int63n(int64(s.Memsz-300)))
			if pa/4096 >= excludedFrom-1 && pa/4096 < excludedFrom+excludedPages {
				continue
			}
			if err1, err2 := e.ReadPhys(a, pa), k.ReadPhys(b, pa); err1 != nil || err2 != nil || string(a) != string(b) {
				t.Fatalf("%s: physical %#x: %v %v, bytes equal %v", path, pa, err1, err2, string(a) == string(b))
			}
		}
		err = k.ReadPhys(a[:8], excludedFrom*4096+0x10)
		if !errors.Is(err, dump.ErrExcluded) || !strings.Contains(err.Error(), "physical 0x61000010: page excluded from the dump (level 31)") {
			t.Errorf("%s: excluded page: %v", path, err)
		}
		if err := k.ReadPhys(a[:8], 0x78000000); !errors.Is(err, dump.ErrNotInDump) {
			t.Errorf("%s: the crash kernel's reservation (not in the dump): %v", path, err)
		}
		got, err := printk.ReadDump(k)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Records, want.Records) {
			t.Errorf("%s: %d log records, the ELF has %d", path, len(got.Records), len(want.Records))
		}
	}
}
