package dumpconv

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/kdumpkit/kdumpkit/analyze/dump"
	"github.com/kdumpkit/kdumpkit/analyze/memmap"
	"github.com/kdumpkit/kdumpkit/analyze/printk"
	"github.com/kdumpkit/kdumpkit/diskdump"
	"github.com/kdumpkit/kdumpkit/internal/testdump"
)

func convert(t *testing.T, e *dump.File, level int, path string) *Stats {
	t.Helper()
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	st, err := Convert(e, out, Options{Level: level, Compression: diskdump.Zstd})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestLevelsOnTheRealDump converts the vexpress dump at levels 0, 1 and
// 31: the file shrinks, every page kept reads as in the ELF, every page
// dropped reads as excluded, and the kernel log survives level 31.
func TestLevelsOnTheRealDump(t *testing.T) {
	td := testdump.Require(t)
	e, err := dump.Open(td.Vmcore)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	elfSize := fileSize(t, td.Vmcore)
	want, err := printk.ReadDump(e)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var sizes []int64
	for _, level := range []int{0, 1, 31} {
		path := filepath.Join(dir, "vmcore.d"+string(rune('0'+level%10)))
		st := convert(t, e, level, path)
		size := fileSize(t, path)
		sizes = append(sizes, size)
		t.Logf("level %2d: %9d bytes (%5.1f%% of the ELF's %d, %.1f× smaller): %d of %d RAM pages dumped; excluded cache %d, private cache %d, user %d, free %d; mem_map %s, %d struct pages unreadable",
			level, size, 100*float64(size)/float64(elfSize), elfSize, float64(elfSize)/float64(size), st.Dumped, st.RAMPages,
			st.Filter.Count(memmap.Cache), st.Filter.Count(memmap.CachePrivate), st.Filter.Count(memmap.User), st.Filter.Count(memmap.Free), st.Model, st.Filter.Unreadable)
		k, err := dump.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		kd := k.Kdump()
		if kd.Sub.DumpLevel != int32(level) || kd.Header.Utsname.Machine != "armv7l" || kd.Header.Utsname.Release != "6.1.172" && kd.Header.Utsname.Release == "" {
			t.Errorf("level %d: header %+v sub %+v", level, kd.Header, kd.Sub)
		}
		a, b := make([]byte, 4096), make([]byte, 4096)
		excluded := 0
		for i := uint64(0); i < kd.MaxMapnr; i++ {
			if !kd.Present.Test(i) {
				continue
			}
			pa := (i + kd.PFNOffset) * 4096
			err := k.ReadPhys(b, pa)
			if !kd.Dumped.Test(i) {
				excluded++
				if !errors.Is(err, dump.ErrExcluded) {
					t.Fatalf("level %d: physical %#x is not dumped but reads: %v", level, pa, err)
				}
				continue
			}
			if i%7 != 0 { // every 7th page is enough to compare bytes
				continue
			}
			if err1 := e.ReadPhys(a, pa); err != nil || err1 != nil || string(a) != string(b) {
				t.Fatalf("level %d: physical %#x: %v %v, equal %v", level, pa, err, err1, string(a) == string(b))
			}
		}
		if level < 2 && excluded != 0 || level == 31 && uint64(excluded) != st.RAMPages-st.Dumped {
			t.Errorf("level %d: %d pages excluded, stats say %d", level, excluded, st.RAMPages-st.Dumped)
		}
		got, err := printk.ReadDump(k)
		if err != nil {
			t.Fatalf("level %d: %v", level, err)
		}
		if !reflect.DeepEqual(got.Records, want.Records) {
			t.Errorf("level %d: %d log records, the ELF has %d", level, len(got.Records), len(want.Records))
		}
		k.Close()
	}
	if !(sizes[2] < sizes[1] && sizes[1] <= sizes[0] && sizes[0] < elfSize) {
		t.Errorf("sizes at levels 0, 1, 31: %v (ELF %d)", sizes, elfSize)
	}
	if elfSize/sizes[2] < 10 {
		t.Errorf("level 31 is %d bytes, only %.1f× smaller than the ELF", sizes[2], float64(elfSize)/float64(sizes[2]))
	}
}

func fileSize(t *testing.T, p string) int64 {
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}
