package kernel

import (
	"debug/elf"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"github.com/kdumpkit/kdumpkit/analyze/symbols"
	"github.com/kdumpkit/kdumpkit/analyze/types"
)

// The dev fixture's memory: chrdevs[] at memBase, major_names[] after it,
// then the two pointer variables, then the objects.
const (
	devMemSize   = memSize
	devMajors    = memBase + 0x800
	devCdevMap   = memBase + 0x1000
	devBdevSuper = memBase + 0x1008
	devIOMem     = memBase + 0x1010 // a struct resource, the tree's root
	devObjects   = memBase + 0x1100
)

func devTypes(tb testing.TB) *types.Types { return typesOf(tb, "testdata/devs.so") }

func devSymbols() *symbols.Table {
	obj := func(name string, addr uint64) symbols.Symbol {
		return symbols.Symbol{Name: name, Addr: addr, Size: 8, Type: elf.STT_OBJECT, Global: true}
	}
	return symbols.New([]symbols.Symbol{obj("chrdevs", memBase), obj("major_names", devMajors),
		obj("cdev_map", devCdevMap), obj("blockdev_superblock", devBdevSuper), obj("iomem_resource", devIOMem)})
}

// devLayout lays out what TestDevWalkFixture expects: chrdevs[1] mem
// with its own cdev; chrdevs[4] tty (no cdev of its own: the one
// cdev_map's probes give for 4:0, after a probe for 4:1) then 259 big
// (none anywhere); major_names[4] blkext (259, no disk) and [254]
// virtblk, whose disk is on the second of blockdev_superblock's inodes;
// iomem_resource "mem" with a child "ram" and its sibling "rom".
func devLayout(tb testing.TB, ty *types.Types) []byte {
	m := make([]byte, devMemSize)
	off := func(typ, path string) uint64 {
		o, err := ty.Offset(typ, path)
		if err != nil {
			tb.Fatal(err)
		}
		return uint64(o)
	}
	size := func(typ string) uint64 {
		s, err := ty.Size(typ)
		if err != nil {
			tb.Fatal(err)
		}
		return uint64(s)
	}
	next := uint64(devObjects)
	alloc := func(typ string) uint64 { a := next; next += (size(typ) + 15) &^ 15; return a }
	put := func(addr, v uint64) { binary.LittleEndian.PutUint64(m[addr-memBase:], v) }
	put32 := func(addr, v uint64) { binary.LittleEndian.PutUint32(m[addr-memBase:], uint32(v)) }
	name := func(addr uint64, s string) { copy(m[addr-memBase:], s) }

	const cd = "struct char_device_struct"
	mem, tty, big := alloc(cd), alloc(cd), alloc(cd)
	c1, c2 := alloc("struct cdev"), alloc("struct cdev")
	put(memBase+1*8, mem)
	put(memBase+4*8, tty)
	for _, d := range []struct {
		at, major uint64
		name      string
		cdev      uint64
	}{{mem, 1, "mem", c1}, {tty, 4, "tty", 0}, {big, 259, "big", 0}} {
		put32(d.at+off(cd, "major"), d.major)
		name(d.at+off(cd, "name"), d.name)
		put(d.at+off(cd, "cdev"), d.cdev)
	}
	put(tty+off(cd, "next"), big)
	put(c1+off("struct cdev", "ops"), 0xdead01)
	put(c2+off("struct cdev", "ops"), 0xdead04)
	km, pr1, pr2 := alloc("struct kobj_map"), alloc("struct probe"), alloc("struct probe")
	put(devCdevMap, km)
	put(km+off("struct kobj_map", "probes")+4*8, pr1)
	put32(pr1+off("struct probe", "dev"), 4<<20|1)
	put(pr1+off("struct probe", "next"), pr2)
	put32(pr2+off("struct probe", "dev"), 4<<20)
	put(pr2+off("struct probe", "data"), c2)

	const bm = "struct blk_major_name"
	blkext, virtblk := alloc(bm), alloc(bm)
	put(devMajors+4*8, blkext)
	put(devMajors+254*8, virtblk)
	put32(blkext+off(bm, "major"), 259)
	name(blkext+off(bm, "name"), "blkext")
	put32(virtblk+off(bm, "major"), 254)
	name(virtblk+off(bm, "name"), "virtblk")
	sb := alloc("struct super_block")
	put(devBdevSuper, sb)
	bdev := size("struct block_device")
	inode := func() uint64 { b := alloc("struct block_device"); alloc("struct inode"); return b + bdev }
	ia, ib := inode(), inode()
	g := alloc("struct gendisk")
	head, link := sb+off("struct super_block", "s_inodes"), off("struct inode", "i_sb_list")
	put(head, ia+link)
	put(ia+link, ib+link)
	put(ib+link, head)
	put(ib-bdev+off("struct block_device", "bd_disk"), g)
	put32(g+off("struct gendisk", "major"), 254)
	put(g+off("struct gendisk", "fops"), 0xbeef)

	const rs = "struct resource"
	ram, rom := alloc(rs), alloc(rs)
	for _, r := range []struct {
		at, start, end uint64
		name           string
	}{{devIOMem, 0, 0xffff, "mem"}, {ram, 0x1000, 0x1fff, "ram"}, {rom, 0x8000, 0x8fff, "rom"}} {
		put(r.at+off(rs, "start"), r.start)
		put(r.at+off(rs, "end"), r.end)
		n := alloc("struct gendisk") // room for the name
		name(n, r.name)
		put(r.at+off(rs, "name"), n)
	}
	put(devIOMem+off(rs, "child"), ram)
	put(ram+off(rs, "sibling"), rom)
	return m
}

func devSummary(chr []CharDev, blk []BlockDev) string {
	var b strings.Builder
	for _, c := range chr {
		fmt.Fprintf(&b, "%d:%s:%t:%x ", c.Major, c.Name, c.Cdev != 0, c.Ops)
	}
	b.WriteString("| ")
	for _, d := range blk {
		fmt.Fprintf(&b, "%d:%s:%t:%x ", d.Major, d.Name, d.Disk != 0, d.Ops)
	}
	return b.String()
}

// TestDevWalkFixture: the fuzz seed is read as laid out, so the fuzzer
// starts from walks that reach every chain, probe and inode.
func TestDevWalkFixture(t *testing.T) {
	ty := devTypes(t)
	k := New(byteMem(devLayout(t, ty)), devSymbols(), ty, binary.LittleEndian, 8, nil)
	chr, cerr := k.CharDevs()
	blk, berr := k.BlockDevs()
	want := "1:mem:true:dead01 4:tty:true:dead04 259:big:false:0 | 259:blkext:false:0 254:virtblk:true:beef "
	if got := devSummary(chr, blk); got != want || cerr != nil || berr != nil {
		t.Errorf("got  %q (%v, %v)\nwant %q", got, cerr, berr, want)
	}
	rs, err := k.Resources("iomem_resource")
	var got []string
	for _, r := range rs {
		got = append(got, fmt.Sprintf("%d:%s:%x-%x", r.Depth, r.Name, r.Start, r.End))
	}
	if strings.Join(got, " ") != "0:mem:0-ffff 1:ram:1000-1fff 1:rom:8000-8fff" || err != nil {
		t.Errorf("resources %q, %v", got, err)
	}
}

// FuzzDevWalk reads chrdevs[], cdev_map's probes, major_names[], the
// block device inodes and the iomem resource tree through hostile memory (loops, wild and NULL
// pointers): the walks end, and every error names an address.
func FuzzDevWalk(f *testing.F) {
	ty := devTypes(f)
	f.Add(devLayout(f, ty))
	f.Add(make([]byte, devMemSize))
	syms := devSymbols()
	f.Fuzz(func(t *testing.T, b []byte) {
		m := make(byteMem, devMemSize)
		copy(m, b)
		k := New(m, syms, ty, binary.LittleEndian, 8, nil)
		_, cerr := k.CharDevs()
		_, berr := k.BlockDevs()
		_, rerr := k.Resources("iomem_resource")
		for _, err := range []error{cerr, berr, rerr} {
			if err != nil && !strings.Contains(err.Error(), "0x") {
				t.Fatalf("error %q names no address", err)
			}
		}
	})
}
