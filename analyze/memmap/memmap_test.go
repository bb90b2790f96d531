package memmap

import (
	"encoding/binary"
	"fmt"
	"reflect"
	"testing"

	"github.com/kdumpkit/kdumpkit/analyze/vmcoreinfo"
)

// flatMemory is kernel memory as one byte slice at a virtual address.
type flatMemory struct {
	base uint64
	b    []byte
}

func (m *flatMemory) ReadVirt(addr uint64, buf []byte) error {
	if addr < m.base || addr+uint64(len(buf)) > m.base+uint64(len(m.b)) {
		return fmt.Errorf("%#x not mapped", addr)
	}
	copy(buf, m.b[addr-m.base:])
	return nil
}

// The vexpress 6.1 kernel's VMCOREINFO (32-bit, FLATMEM), with its node
// at 0xc0000000 and mem_map right after it.
const vexpressInfo = `PAGESIZE=4096
SYMBOL(contig_page_data)=c0000000
OFFSET(pglist_data.node_mem_map)=8
OFFSET(pglist_data.node_start_pfn)=12
OFFSET(pglist_data.node_spanned_pages)=16
SIZE(page)=32
OFFSET(page.flags)=0
OFFSET(page._refcount)=28
OFFSET(page.mapping)=12
OFFSET(page.lru)=4
OFFSET(page._mapcount)=24
OFFSET(page.private)=20
OFFSET(page.compound_order)=9
OFFSET(page.compound_head)=4
LENGTH(zone.free_area)=11
NUMBER(PG_lru)=4
NUMBER(PG_private)=13
NUMBER(PG_swapcache)=10
NUMBER(PG_swapbacked)=19
NUMBER(PG_slab)=9
NUMBER(PG_head_mask)=65536
NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)=-129
`

const startPFN, nPages = 0x60000, 32

// machine builds the node and a mem_map of nPages struct pages.
func machine(t testing.TB, pages func(i int, p []byte)) (*flatMemory, *vmcoreinfo.Info) {
	info, err := vmcoreinfo.Parse([]byte(vexpressInfo))
	if err != nil {
		t.Fatal(err)
	}
	m := &flatMemory{base: 0xc0000000, b: make([]byte, 0x100+nPages*32)}
	le := binary.LittleEndian
	le.PutUint32(m.b[8:], 0xc0000100)
	le.PutUint32(m.b[12:], startPFN)
	le.PutUint32(m.b[16:], nPages)
	for i := 0; i < nPages; i++ {
		le.PutUint32(m.b[0x100+i*32+24:], 0xffffffff) // _mapcount -1: no page type
		pages(i, m.b[0x100+i*32:0x100+(i+1)*32])
	}
	return m, info
}

func synthetic(i int, p []byte) {
	le := binary.LittleEndian
	switch {
	case i == 1: // page cache
		le.PutUint32(p, 1<<4)
		le.PutUint32(p[12:], 0xc1234560)
	case i == 2: // page cache with buffers
		le.PutUint32(p, 1<<4|1<<13)
		le.PutUint32(p[12:], 0xc1234560)
	case i == 3: // anonymous
		le.PutUint32(p[12:], 0xc2345601)
	case i == 4: // a free block of order 2
		le.PutUint32(p[24:], 0xffffff7f)
		le.PutUint32(p[20:], 2)
	case i == 8: // an anonymous THP of order 3: head
		le.PutUint32(p, 1<<16)
		le.PutUint32(p[12:], 0xc2345601)
	case i == 9: // its first tail holds the order
		le.PutUint32(p[4:], 0xc0000100+8*32+1)
		p[9] = 3
	case i > 9 && i < 16:
		le.PutUint32(p[4:], 0xc0000100+8*32+1)
	case i == 16: // slab: mapping's low bit set but not anon
		le.PutUint32(p, 1<<9)
		le.PutUint32(p[12:], 0xc3456701)
	case i == 17: // a buddy with an order the zone cannot have: kept
		le.PutUint32(p[24:], 0xffffff7f)
		le.PutUint32(p[20:], 20)
	case i == 20: // swap cache (swapbacked) not on the LRU
		le.PutUint32(p, 1<<10|1<<19)
		le.PutUint32(p[12:], 0xc1234560)
	}
}

func TestExcludeByLevel(t *testing.T) {
	mem, info := machine(t, synthetic)
	f, err := New(mem, binary.LittleEndian, 4, info, startPFN)
	if err != nil {
		t.Fatal(err)
	}
	if f.Model != "FLATMEM" {
		t.Errorf("model %s", f.Model)
	}
	all := func(uint64) bool { return true }
	for _, c := range []struct {
		level int
		want  map[uint64]Class
	}{
		{1, map[uint64]Class{}},
		{2, map[uint64]Class{1: Cache, 20: Cache}},
		{4, map[uint64]Class{1: Cache, 2: CachePrivate, 20: Cache}},
		{8, map[uint64]Class{3: User, 8: User, 9: User, 10: User, 11: User, 12: User, 13: User, 14: User, 15: User}},
		{16, map[uint64]Class{4: Free, 5: Free, 6: Free, 7: Free}},
		{31, map[uint64]Class{1: Cache, 2: CachePrivate, 3: User, 4: Free, 5: Free, 6: Free, 7: Free,
			8: User, 9: User, 10: User, 11: User, 12: User, 13: User, 14: User, 15: User, 20: Cache}},
	} {
		got := map[uint64]Class{}
		st := f.Exclude(c.level, startPFN, startPFN+nPages, all, func(pfn, n uint64, cl Class) {
			for p := pfn; p < pfn+n; p++ {
				got[p-startPFN] = cl
			}
		})
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("level %d: excluded %v, want %v", c.level, got, c.want)
		}
		var n uint64
		for _, k := range st.Excluded {
			n += k
		}
		if n != uint64(len(c.want)) || c.level > 1 && st.Pages != nPages {
			t.Errorf("level %d: stats %+v", c.level, st)
		}
	}
	// Only RAM pfns are looked at: a hole over the THP keeps it out.
	got := 0
	f.Exclude(31, startPFN, startPFN+nPages, func(pfn uint64) bool { return pfn-startPFN < 8 }, func(pfn, n uint64, _ Class) { got += int(n) })
	if got != 7 {
		t.Errorf("with RAM below pfn 8 only: %d excluded, want 7", got)
	}
}

func TestLayoutMissing(t *testing.T) {
	info, _ := vmcoreinfo.Parse([]byte("PAGESIZE=4096\nSIZE(page)=32\n"))
	if _, err := New(&flatMemory{}, binary.LittleEndian, 4, info, 0); err == nil {
		t.Error("no page offsets: no error")
	}
}

// FuzzExclude: any struct page contents give runs that start inside the
// walked range and do not wrap (a free block or compound page may run
// past it: the caller clips), never a panic.
func FuzzExclude(f *testing.F) {
	mem, _ := machine(f, synthetic)
	f.Add(mem.b[0x100:])
	f.Fuzz(func(t *testing.T, pages []byte) {
		mem, info := machine(t, func(i int, p []byte) {
			if i*32 < len(pages) {
				copy(p, pages[i*32:])
			}
		})
		fl, err := New(mem, binary.LittleEndian, 4, info, startPFN)
		if err != nil {
			t.Fatal(err)
		}
		fl.Exclude(31, startPFN, startPFN+nPages, func(uint64) bool { return true }, func(pfn, n uint64, _ Class) {
			if pfn < startPFN || pfn >= startPFN+nPages || n == 0 || pfn+n < pfn {
				t.Fatalf("run %#x+%d", pfn, n)
			}
		})
	})
}
