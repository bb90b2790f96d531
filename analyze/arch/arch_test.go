package arch

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/kdumpkit/kdumpkit/analyze/dump"
	"github.com/kdumpkit/kdumpkit/analyze/dump/dumptest"

	"github.com/kdumpkit/kdumpkit/internal/testdump"
)

// ram is a little-endian physical memory image starting at base.
type ram struct {
	base uint64
	b    []byte
}

func (r *ram) put32(pa uint64, v uint32) { binary.LittleEndian.PutUint32(r.b[pa-r.base:], v) }
func (r *ram) put64(pa uint64, v uint64) { binary.LittleEndian.PutUint64(r.b[pa-r.base:], v) }

func open(t *testing.T, c *dumptest.Core) *Memory {
	t.Helper()
	b := c.Bytes()
	d, err := dump.New(bytes.NewReader(b), int64(len(b)), "synthetic")
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewMemory(d)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func prstatusARM(pid uint32, regs [18]uint32) []byte {
	d := make([]byte, 148)
	binary.LittleEndian.PutUint32(d[24:], pid)
	for i, r := range regs {
		binary.LittleEndian.PutUint32(d[72+4*i:], r)
	}
	return d
}

// An ARM32 machine like vexpress: 2 MiB of RAM at 0x60000000, PAGE_OFFSET
// 0x80000000 (VMSPLIT_2G), swapper_pg_dir at 0x80004000, a vmalloc page at
// 0xe0801000 via a coarse table, a section at 0xf0000000.
func armCore(lpae bool) (*dumptest.Core, *ram) {
	r := &ram{base: 0x60000000, b: make([]byte, 2<<20)}
	const pgd = 0x60004000
	info := "OSRELEASE=6.1.0\nPAGESIZE=4096\nSYMBOL(swapper_pg_dir)=80004000\n"
	if lpae {
		info += "CONFIG_ARM_LPAE=y\n"
		// pgd[3] → pmd at 0x60006000; pmd[(0xe0801000>>21)&0x1ff] → pte at 0x60007000.
		r.put64(pgd+3*8, 0x60006000|3)
		r.put64(0x60006000+(0xe0801000>>21&0x1ff)*8, 0x60007000|3)
		r.put64(0x60007000+(0xe0801000>>12&0x1ff)*8, 0x60100000|3|0x400)
		// a 2 MiB block at 0xf0000000 → 0x60000000
		r.put64(0x60006000+(0xf0000000>>21&0x1ff)*8, 0x60000000|1)
	} else {
		r.put32(pgd+(0xe0801000>>20)*4, 0x60005000|1) // coarse table
		r.put32(0x60005000+(0xe0801000>>12&0xff)*4, 0x60100000|2)
		r.put32(pgd+(0xf0000000>>20)*4, 0x60000000|2) // section
	}
	copy(r.b[0x100000:], "vmalloc page")
	copy(r.b[0x10:], "section")
	return &dumptest.Core{Class: elf.ELFCLASS32, ByteOrder: binary.LittleEndian, Machine: elf.EM_ARM,
		Notes: []dumptest.Note{{Name: "CORE", Type: 1, Desc: prstatusARM(42, [18]uint32{13: 0xe0801ff0, 15: 0x80123456})}, {Name: "VMCOREINFO", Desc: []byte(info)}},
		Loads: []dumptest.Load{{Paddr: 0x60000000, Vaddr: 0x80000000, Data: r.b}}}, r
}

func TestARMTranslation(t *testing.T) {
	for _, lpae := range []bool{false, true} {
		c, _ := armCore(lpae)
		m := open(t, c)
		for va, want := range map[uint64]string{0x80100000: "vmalloc page", 0xe0801000: "vmalloc page", 0xf0000010: "section"} {
			got, err := m.ReadCString(va, 32)
			if err != nil || got != want {
				t.Errorf("lpae=%v %#x: %q, %v", lpae, va, got, err)
			}
		}
		_, err := m.ReadU32(0xe0a00000)
		if !errors.Is(err, ErrNotMapped) || !strings.Contains(err.Error(), "0xe0a00000") {
			t.Errorf("lpae=%v unmapped: %v", lpae, err)
		}
	}
}

func TestARMPRStatus(t *testing.T) {
	c, _ := armCore(false)
	r, err := PRStatus(arm{}, c.Notes[0].Desc, binary.LittleEndian)
	if err != nil || r.PID != 42 || r.SP != 0xe0801ff0 || r.PC != 0x80123456 || len(r.Regs) != 18 {
		t.Errorf("%+v, %v", r, err)
	}
	if _, err := PRStatus(arm{}, make([]byte, 100), binary.LittleEndian); err == nil {
		t.Error("short note accepted")
	}
}

// x86_64: init_top_pgt at __START_KERNEL_map + 0x1000 (phys_base 0), a
// 4 KiB page at 0xffffc90000001000 and a 2 MiB page at 0xffffffff81000000.
func TestX86Walk(t *testing.T) {
	r := &ram{base: 0, b: make([]byte, 4<<20)}
	va := uint64(0xffffc90000001000)
	idx := func(va uint64, shift uint) uint64 { return va >> shift & 0x1ff }
	r.put64(0x1000+idx(va, 39)*8, 0x2000|1)
	r.put64(0x2000+idx(va, 30)*8, 0x3000|1)
	r.put64(0x3000+idx(va, 21)*8, 0x4000|1)
	r.put64(0x4000+idx(va, 12)*8, 0x5000|1)
	copy(r.b[0x5000:], "x86 page")
	text := uint64(0xffffffff81000000)
	r.put64(0x1000+idx(text, 39)*8, 0x6000|1)
	r.put64(0x6000+idx(text, 30)*8, 0x7000|1)
	r.put64(0x7000+idx(text, 21)*8, 0x200000|1|0x80)
	copy(r.b[0x200000+0x123:], "2M page")
	c := &dumptest.Core{Class: elf.ELFCLASS64, ByteOrder: binary.LittleEndian, Machine: elf.EM_X86_64,
		Notes: []dumptest.Note{{Name: "VMCOREINFO", Desc: []byte("SYMBOL(init_top_pgt)=ffffffff80001000\nNUMBER(phys_base)=0\n")}},
		Loads: []dumptest.Load{{Paddr: 0, Vaddr: 0xffff888000000000, Data: r.b}}}
	m := open(t, c)
	for va, want := range map[uint64]string{va: "x86 page", text + 0x123: "2M page", 0xffff888000005000: "x86 page"} {
		if got, err := m.ReadCString(va, 16); err != nil || got != want {
			t.Errorf("%#x: %q, %v", va, got, err)
		}
	}
}

// arm64 with VA_BITS=39 (3 levels), kimage_voffset putting the kernel
// image's swapper_pg_dir at physical 0x40001000.
func TestARM64Walk(t *testing.T) {
	r := &ram{base: 0x40000000, b: make([]byte, 1<<20)}
	va := uint64(0xffffffc008001000)
	idx := func(va uint64, shift uint) uint64 { return va >> shift & 0x1ff }
	r.put64(0x40001000+idx(va, 30)*8, 0x40002000|3)
	r.put64(0x40002000+idx(va, 21)*8, 0x40003000|3)
	r.put64(0x40003000+idx(va, 12)*8, 0x40004000|3)
	copy(r.b[0x4000:], "arm64 page")
	info := "PAGESIZE=4096\nNUMBER(VA_BITS)=39\nNUMBER(kimage_voffset)=-1073741824\nSYMBOL(swapper_pg_dir)=1000\n"
	// kimage_voffset −0x40000000 makes swapper_pg_dir VA 0x1000 → PA 0x40001000.
	c := &dumptest.Core{Class: elf.ELFCLASS64, ByteOrder: binary.LittleEndian, Machine: elf.EM_AARCH64,
		Notes: []dumptest.Note{{Name: "VMCOREINFO", Desc: []byte(info)}},
		Loads: []dumptest.Load{{Paddr: 0x40000000, Vaddr: 0xffffff8000000000, Data: r.b}}}
	m := open(t, c)
	if got, err := m.ReadCString(va, 16); err != nil || got != "arm64 page" {
		t.Errorf("walk: %q, %v", got, err)
	}
}

func TestForMachine(t *testing.T) {
	if _, err := ForMachine(elf.EM_MIPS); !errors.Is(err, ErrUnsupported) {
		t.Errorf("MIPS: %v", err)
	}
}

// TestReferenceStackIsReadable reads the panicking CPU's stack, which
// VMAP_STACK places in vmalloc space, through the page tables.
func TestReferenceStackIsReadable(t *testing.T) {
	d, err := dump.Open(testdump.Require(t).Vmcore)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	m, err := NewMemory(d)
	if err != nil {
		t.Fatal(err)
	}
	r, err := PRStatus(m.Arch, d.PRStatus()[0], d.ByteOrder)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	if err := m.ReadVirt(r.SP, buf); err != nil {
		t.Fatalf("stack at sp %#x: %v", r.SP, err)
	}
	t.Logf("pid %d sp %#x pc %#x", r.PID, r.SP, r.PC)
}
