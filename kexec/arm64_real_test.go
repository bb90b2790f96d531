package kexec

import (
	"bytes"
	"debug/elf"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/kdumpkit/kdumpkit/analyze/dump"
	"github.com/kdumpkit/kdumpkit/analyze/vmcoreinfo"
	"github.com/kdumpkit/kdumpkit/internal/testdump"
)

// TestARM64HeaderMatchesKernels builds our ELF core header for the arm64
// test dump's machine and compares its PT_LOADs with the ones in that
// vmcore, which the kernel's own kexec_file_load wrote
// (crash_prepare_elf64_headers): same physical ranges, same virtual
// addresses (the KASLR'd image, the linear map under a PHYS_OFFSET that
// KASLR pushed below zero), same sizes. The inputs are what the board
// would read: RAM and the crash region as the first kernel's console
// printed them, the image's symbols from the vmlinux moved by
// KERNELOFFSET, "Kernel code"/"Kernel data" where arch/arm64/kernel/
// setup.c puts them, and VMCOREINFO.
func TestARM64HeaderMatchesKernels(t *testing.T) {
	td := testdump.RequireBoard(t, "arm64")
	d, err := dump.Open(td.Vmcore)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	raw, _ := d.VMCOREINFO()
	info, err := vmcoreinfo.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	console, err := os.ReadFile(td.Console)
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := bytes.Cut(console, []byte("Starting crashdump kernel"))
	var iomem strings.Builder
	for _, m := range regexp.MustCompile(`node +\d+: \[mem (0x[0-9a-f]+)-(0x[0-9a-f]+)\]`).FindAllSubmatch(first, -1) {
		fmt.Fprintf(&iomem, "%s-%s : System RAM\n", strings.TrimPrefix(string(m[1]), "0x"), strings.TrimPrefix(string(m[2]), "0x"))
	}
	crash := regexp.MustCompile(`crashkernel reserved: (0x[0-9a-f]+) - (0x[0-9a-f]+)`).FindSubmatch(first)
	if iomem.Len() == 0 || crash == nil {
		t.Fatalf("the console has no memory node or crashkernel line:\n%s", first)
	}
	hex := func(b []byte) uint64 { v, _ := strconv.ParseUint(string(b), 0, 64); return v }
	fmt.Fprintf(&iomem, "  %x-%x : Crash kernel\n", hex(crash[1]), hex(crash[2])-1)

	ef, err := elf.Open(td.Vmlinux)
	if err != nil {
		t.Fatal(err)
	}
	defer ef.Close()
	syms, err := ef.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	at := map[string]uint64{}
	for _, s := range syms {
		at[s.Name] = s.Value + info.KernelOffset()
	}
	voff, err := info.KimageVoffset()
	if err != nil {
		t.Fatal(err)
	}
	pa := func(name string) uint64 { return at[name] - voff }
	fmt.Fprintf(&iomem, "  %x-%x : Kernel code\n  %x-%x : Kernel data\n", pa("_text"), pa("__init_begin")-1, pa("_sdata"), pa("_end")-1)
	res, err := ParseIOMem(strings.NewReader(iomem.String()))
	if err != nil {
		t.Fatal(err)
	}
	mem, err := MemoryFrom(res)
	if err != nil {
		t.Fatal(err)
	}
	k, err := kernelMap(res, map[string]uint64{"_text": at["_text"], "_stext": at["_stext"], "_end": at["_end"]}, voff)
	if err != nil {
		t.Fatal(err)
	}
	vaBits, err1 := info.VABits()
	phys, err2 := info.PhysOffset()
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	sys := &ARM64System{System: System{Memory: mem, VMCOREINFO: CoreNote{0x1000, 0x1000}, PageOffset: -(uint64(1) << vaBits)},
		Kernel: k, PhysOffset: phys, VABits: vaBits, PageSize: info.PageSize()}
	image, err := os.ReadFile(td.Image)
	if err != nil {
		t.Fatal(err)
	}
	p, err := PlanARM64(sys, ARM64Inputs{Kernel: image, DTB: virtDTB(t), Rand: &counting{}})
	if err != nil {
		t.Fatal(err)
	}
	ours, err := elf.NewFile(bytes.NewReader(p.Segments[len(p.Segments)-1].Buf))
	if err != nil {
		t.Fatal(err)
	}
	type load struct{ paddr, vaddr, size uint64 }
	var got, want []load
	for _, ph := range ours.Progs {
		if ph.Type == elf.PT_LOAD {
			got = append(got, load{ph.Paddr, ph.Vaddr, ph.Memsz})
		}
	}
	for _, l := range d.Loads {
		want = append(want, load{l.Paddr, l.Vaddr, l.Memsz})
	}
	// dump.Open sorts its loads by physical address; ours are in the
	// kernel's order, the image first.
	sort.Slice(got, func(i, j int) bool { return got[i].paddr < got[j].paddr })
	if len(got) < 3 {
		t.Errorf("%d PT_LOADs: want the image and RAM on both sides of the crash region", len(got))
	}
	if fmt.Sprintf("%x", got) != fmt.Sprintf("%x", want) {
		t.Errorf("our PT_LOADs (paddr vaddr size)\n %x\nthe kernel's\n %x", got, want)
	}
	// And the Image our plan loads is the one that ran: its header's
	// image_size is the vmlinux's _end - _text.
	if p.Image.ImageSize != at["_end"]-at["_text"] || p.Image.TextOffset != 0 || p.Image.PageSize() != info.PageSize() {
		t.Errorf("Image header %+v; vmlinux _end-_text %#x, PAGESIZE %d", p.Image, at["_end"]-at["_text"], info.PageSize())
	}
}
