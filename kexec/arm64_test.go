package kexec

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kdumpkit/kdumpkit/analyze/arch"
	"github.com/kdumpkit/kdumpkit/analyze/dump"
	"github.com/kdumpkit/kdumpkit/analyze/vmcoreinfo"
	"github.com/u-root/u-root/pkg/dt"
	"golang.org/x/arch/arm64/arm64asm"
)

// The arm64 machine of the fake tree: QEMU virt with 1 GiB of RAM at
// 1 GiB, crashkernel=256M reserved at 0x6ee00000 (as measured on this
// board), the 6.12 Image loaded by QEMU at RAM + 2 MiB, KASLR on: _text
// moved, and the linear map moved so far that PHYS_OFFSET wrapped below
// zero (Debian's kexec-tools read such a value on 6.1).
const (
	virtIOMem = `09000000-09000fff : pl011@9000000
  09000000-09000fff : 9000000.pl011 pl011@9000000
40000000-7fffffff : System RAM
  40200000-40bbffff : Kernel code
  40bc0000-40cbffff : reserved
  40cc0000-40dfffff : Kernel data
  6ee00000-7edfffff : Crash kernel
  7f000000-7fffffff : reserved
`
	virtText       = 0xffffb5a0e7200000
	virtStext      = virtText + 0x10000
	virtEnd        = virtText + 0xc00000 // __pa_symbol(_end) = 0x40e00000, "Kernel data" ends just below
	virtVoffset    = virtText - 0x40200000
	virtPhysOffset = 0xffffacefc0000000
	virtLinearRAM  = 0xffff531080000000 // (0x40000000 - PHYS_OFFSET) | PAGE_OFFSET
)

// virtVMCOREINFO is the arm64 part of a 6.12 VMCOREINFO (arch/arm64/kernel/
// vmcore_info.c prints these lines) for the machine above.
func virtVMCOREINFO() string {
	return fmt.Sprintf("OSRELEASE=6.12.117\nPAGESIZE=4096\nSYMBOL(swapper_pg_dir)=%x\nNUMBER(VA_BITS)=48\n"+
		"NUMBER(kimage_voffset)=0x%x\nNUMBER(PHYS_OFFSET)=0x%x\nNUMBER(TCR_EL1_T1SZ)=0x10\nKERNELOFFSET=%x\n",
		uint64(virtText+0x1a3f000), uint64(virtVoffset), uint64(virtPhysOffset), uint64(virtText-0xffff800080000000))
}

// fakeKcore is /proc/kcore as far as a reader of its notes goes: an
// ELF64 core whose PT_NOTE holds CORE notes and VMCOREINFO.
func fakeKcore(info string) []byte {
	note := func(name string, typ uint32, desc []byte) []byte {
		var b bytes.Buffer
		binary.Write(&b, binary.LittleEndian, [3]uint32{uint32(len(name) + 1), uint32(len(desc)), typ})
		b.WriteString(name + "\x00")
		b.Write(make([]byte, (4-(len(name)+1)%4)%4))
		b.Write(desc)
		b.Write(make([]byte, (4-len(desc)%4)%4))
		return b.Bytes()
	}
	notes := append(note("CORE", uint32(elf.NT_PRSTATUS), make([]byte, 392)), note("VMCOREINFO", 0, []byte(info))...)
	var b bytes.Buffer
	le := binary.LittleEndian
	b.Write([]byte{0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	binary.Write(&b, le, struct {
		Type, Machine                                        uint16
		Version                                              uint32
		Entry, Phoff, Shoff                                  uint64
		Flags                                                uint32
		Ehsize, Phentsize, Phnum, Shentsize, Shnum, Shstrndx uint16
	}{uint16(elf.ET_CORE), uint16(elf.EM_AARCH64), 1, 0, 64, 0, 0, 64, 56, 2, 0, 0, 0})
	off := uint64(64 + 2*56)
	binary.Write(&b, le, elf.Prog64{Type: uint32(elf.PT_NOTE), Off: off, Filesz: uint64(len(notes))})
	binary.Write(&b, le, elf.Prog64{Type: uint32(elf.PT_LOAD), Flags: uint32(elf.PF_R | elf.PF_W | elf.PF_X), Off: 0x1000,
		Vaddr: virtLinearRAM, Paddr: 0x40000000, Filesz: 0x40000000, Memsz: 0x40000000})
	b.Write(notes)
	return b.Bytes()
}

// fakeARM64Root writes the procfs and sysfs files an arm64 crash load
// reads, for the virt machine above with two CPUs; over replaces files.
func fakeARM64Root(t *testing.T, over map[string]string) string {
	root := t.TempDir()
	files := map[string]string{
		"proc/iomem": virtIOMem,
		"proc/kallsyms": fmt.Sprintf("%x T _text\n%x T _stext\n%x T do_one_initcall\n%x B _end\n%x t helper\t[lkdtm]\n",
			uint64(virtText), uint64(virtStext), uint64(virtStext+0x1234), uint64(virtEnd), uint64(virtText+0x100000)),
		"proc/kcore":                                   string(fakeKcore(virtVMCOREINFO())),
		"sys/devices/system/cpu/possible":              "0-1\n",
		"sys/kernel/vmcoreinfo":                        "40c2a000 1000\n",
		"sys/devices/system/cpu/cpu0/crash_notes":      "7fdd1a20\n",
		"sys/devices/system/cpu/cpu0/crash_notes_size": "432\n",
		"sys/devices/system/cpu/cpu1/crash_notes":      "7fdf0a20\n",
		"sys/devices/system/cpu/cpu1/crash_notes_size": "432\n",
	}
	for k, v := range over {
		files[k] = v
	}
	for name, body := range files {
		if body == "" {
			continue // left out
		}
		p := filepath.Join(root, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// synthARM64Image is an Image-shaped file: size bytes, the header of a
// 6.12 kernel (text_offset 0, 4K pages, placed anywhere, little-endian).
func synthARM64Image(size, imageSize uint64) []byte {
	b := make([]byte, size)
	le := binary.LittleEndian
	le.PutUint32(b[0:], 0xfa405a4d) // "MZ" and ccmp, the EFI stub's first word
	le.PutUint64(b[16:], imageSize)
	le.PutUint64(b[24:], 0xa)
	copy(b[56:], "ARM\x64")
	return b
}

// virtDTB is a device tree as QEMU's virt leaves it in /sys/firmware/fdt
// after the first kernel booted: 2 address and size cells, /chosen with
// the kaslr-seed the kernel zeroed, the first initrd and bootargs.
func virtDTB(t *testing.T) []byte {
	chosen := dt.NewNode("chosen", dt.WithProperty(dt.PropertyString("bootargs", "console=ttyAMA0 crashkernel=256M"),
		dt.PropertyU64("kaslr-seed", 0), dt.PropertyU64("linux,initrd-start", 0x48000000), dt.PropertyU64("linux,initrd-end", 0x48a00000)))
	fdt := &dt.FDT{Header: dt.Header{Magic: dt.Magic, Version: 17, LastCompVersion: 16}, RootNode: dt.NewNode("", dt.WithProperty(
		dt.PropertyU32("#address-cells", 2), dt.PropertyU32("#size-cells", 2)), dt.WithChildren(chosen, dt.NewNode("memory@40000000",
		dt.WithProperty(dt.PropertyRegion("reg", 0x40000000, 0x40000000)))))}
	var b bytes.Buffer
	if _, err := fdt.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// counting is a deterministic "random" source: 0, 1, 2…
type counting struct{ n byte }

func (c *counting) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = c.n
		c.n++
	}
	return len(p), nil
}

func planVirt(t *testing.T, initrd int) (*ARM64System, *Plan) {
	t.Helper()
	sys, err := ReadARM64System(fakeARM64Root(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	in := ARM64Inputs{Kernel: synthARM64Image(0x9a0200, 0xc00000), DTB: virtDTB(t), Rand: &counting{},
		Cmdline: "console=ttyAMA0 nr_cpus=1 reset_devices kdumpkit.mode=capture"}
	if initrd > 0 {
		in.Initrd = bytes.Repeat([]byte{0x1f}, initrd)
	}
	p, err := PlanARM64(sys, in)
	if err != nil {
		t.Fatal(err)
	}
	return sys, p
}

func TestReadARM64System(t *testing.T) {
	sys, err := ReadARM64System(fakeARM64Root(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	if sys.VABits != 48 || sys.PageOffset != 0xffff000000000000 || sys.PhysOffset != virtPhysOffset || sys.PageSize != 4096 {
		t.Errorf("layout: VA_BITS %d PAGE_OFFSET %#x PHYS_OFFSET %#x page %d", sys.VABits, sys.PageOffset, sys.PhysOffset, sys.PageSize)
	}
	if want := (KernelMap{virtText, Range{0x40200000, 0x40dfffff}}); sys.Kernel != want {
		t.Errorf("kernel %+v, want %+v", sys.Kernel, want)
	}
	if sys.Memory.Crash != (Range{0x6ee00000, 0x7edfffff}) || len(sys.CPUNotes) != 2 || sys.VMCOREINFO != (CoreNote{0x40c2a000, 0x1000}) {
		t.Errorf("%+v", sys.System)
	}
	if got := sys.LinearVaddr(0x40000000); got != virtLinearRAM {
		t.Errorf("linear address of RAM's start %#x, want %#x", got, uint64(virtLinearRAM))
	}
}

// TestReadARM64SystemRefuses: each input the header depends on, missing
// or contradicting another, is an error naming it.
func TestReadARM64SystemRefuses(t *testing.T) {
	for _, c := range []struct {
		name string
		over map[string]string
		want string
	}{
		{"no kcore", map[string]string{"proc/kcore": ""}, "CONFIG_PROC_KCORE"},
		{"kcore without VMCOREINFO", map[string]string{"proc/kcore": string(fakeKcore("NOTHING=1\n"))}, "NUMBER(VA_BITS)"},
		{"kcore not ELF", map[string]string{"proc/kcore": "garbage"}, "proc/kcore"},
		{"hidden kallsyms", map[string]string{"proc/kallsyms": "0000000000000000 T _text\n0000000000000000 T _stext\n0000000000000000 B _end\n"}, "kptr_restrict"},
		{"no _end", map[string]string{"proc/kallsyms": fmt.Sprintf("%x T _text\n%x T _stext\n", uint64(virtText), uint64(virtStext))}, "CONFIG_KALLSYMS_ALL"},
		{"no Kernel data", map[string]string{"proc/iomem": strings.Replace(virtIOMem, "Kernel data", "reserved", 1)}, `"Kernel data"`},
		{"image not where iomem says", map[string]string{"proc/iomem": strings.Replace(virtIOMem, "40200000-40bbffff : Kernel code", "40400000-40bbffff : Kernel code", 1)}, "do not hold _text.._end"},
		{"kimage_voffset disagrees", map[string]string{"proc/kcore": string(fakeKcore(strings.Replace(virtVMCOREINFO(), "kimage_voffset)=0x", "kimage_voffset)=0x1", 1)))}, "kimage_voffset"},
		{"VA_BITS out of range", map[string]string{"proc/kcore": string(fakeKcore(strings.Replace(virtVMCOREINFO(), "VA_BITS)=48", "VA_BITS)=64", 1)))}, "want 36 to 52"},
		{"no crash region", map[string]string{"proc/iomem": strings.Replace(virtIOMem, "Crash kernel", "reserved", 1)}, "Crash kernel"},
	} {
		_, err := ReadARM64System(fakeARM64Root(t, c.over))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want one naming %q", c.name, err, c.want)
		}
	}
}

// TestKernelMapOn61: 6.1's "Kernel code" starts at _stext, not _text
// (arch/arm64/kernel/setup.c); the image's place comes out the same.
func TestKernelMapOn61(t *testing.T) {
	res, err := ParseIOMem(strings.NewReader(strings.Replace(virtIOMem, "40200000-40bbffff : Kernel code", "40210000-40bbffff : Kernel code", 1)))
	if err != nil {
		t.Fatal(err)
	}
	k, err := kernelMap(res, map[string]uint64{"_text": virtText, "_stext": virtStext, "_end": virtEnd}, virtVoffset)
	if err != nil || k != (KernelMap{virtText, Range{0x40200000, 0x40dfffff}}) {
		t.Errorf("%+v %v", k, err)
	}
}

func TestARM64ImageHeader(t *testing.T) {
	im, err := ParseARM64Image(synthARM64Image(0x9a0200, 0xc00000))
	if err != nil {
		t.Fatal(err)
	}
	if im.TextOffset != 0 || im.ImageSize != 0xc00000 || im.PageSize() != 4096 || !im.Anywhere() || im.Size != 0x9a0200 {
		t.Errorf("%+v", im)
	}
	old := synthARM64Image(0x1000, 0x2000)
	binary.LittleEndian.PutUint64(old[8:], 0x80000) // text_offset before 5.8
	binary.LittleEndian.PutUint64(old[24:], 0x2)    // 4K pages, not "anywhere" (before 4.6)
	if im, err := ParseARM64Image(old); err != nil || im.TextOffset != 0x80000 || im.Anywhere() {
		t.Errorf("old Image: %+v %v", im, err)
	}
	for name, c := range map[string]struct {
		off  int
		val  uint64
		want string
	}{
		"no magic":     {56, 0, "not an arm64 Image"},
		"size 0":       {16, 0, "image_size is 0"},
		"size < file":  {16, 0x100, "smaller than"},
		"huge size":    {16, 1 << 40, "not plausible"},
		"big-endian":   {24, 0xb, "big-endian"},
		"text_offset":  {8, 0x80001, "text_offset"},
		"offset ≥ 2 M": {8, 2 << 20, "text_offset"},
	} {
		b := synthARM64Image(0x1000, 0x2000)
		binary.LittleEndian.PutUint64(b[c.off:], c.val)
		if c.off == 56 {
			binary.LittleEndian.PutUint32(b[c.off:], uint32(c.val))
		}
		if _, err := ParseARM64Image(b); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
	if _, err := ParseARM64Image(make([]byte, 10)); err == nil {
		t.Error("10 bytes accepted")
	}
}

// TestPlanARM64Layout checks where each piece goes: booting.rst's rules
// for the Image and the device tree, the kernel's for segments (page
// aligned, inside the crash region, apart), and room for the kernel's
// own two pages.
func TestPlanARM64Layout(t *testing.T) {
	_, p := planVirt(t, 0x6a3c41)
	want := []struct {
		name       string
		mem, memsz uint64
	}{
		{"kernel", 0x6ee00000, 0xc00000},   // the region's first 2 MiB boundary + text_offset 0; image_size, bss included
		{"initrd", 0x6fa00000, 0x6a4000},   // right after image_size
		{"dtb", 0x700a4000, 0x1000},        // right after, inside one 2 MiB block
		{"purgatory", 0x700a5000, 0x1000},  // one page, the entry
		{"elfcorehdr", 0x7edf0000, 0x1000}, // the top, 64 KiB aligned
	}
	if len(p.Segments) != len(want) {
		t.Fatalf("%d segments: %s", len(p.Segments), segmentList(p))
	}
	for i, w := range want {
		s := p.Segments[i]
		if s.Name != w.name || s.Mem != w.mem || s.Memsz != w.memsz || uint64(len(s.Buf)) > s.Memsz {
			t.Errorf("segment %d: %s %#x+%#x (%#x bytes), want %s %#x+%#x", i, s.Name, s.Mem, s.Memsz, len(s.Buf), w.name, w.mem, w.memsz)
		}
	}
	if p.Entry != 0x700a5000 || p.DTBAddr != 0x700a4000 || p.Header != (Range{0x7edf0000, 0x7edf0fff}) {
		t.Errorf("entry %#x dtb %#x header %v", p.Entry, p.DTBAddr, p.Header)
	}
	if p.Cmdline != "console=ttyAMA0 nr_cpus=1 reset_devices kdumpkit.mode=capture" {
		t.Errorf("command line %q: arm64 passes elfcorehdr and the memory in /chosen, not here", p.Cmdline)
	}
	var out bytes.Buffer
	p.WriteDebug(&out, flagOnCrash|archAArch64)
	for _, line := range []string{"kexec_load: entry = 0x700a5000 flags = 0xb70001", "purgatory at 0x700a5000: x0 = dtb 0x700a4000, then the Image at 0x6ee00000",
		"Image size 0x9a0200: text_offset 0x0 image_size 0xc00000 flags 0xa (4 KiB pages, placed anywhere true)", "0000000040000000-000000006edfffff (0)", "nr_segments = 5"} {
		if !strings.Contains(out.String(), line) {
			t.Errorf("-d output lacks %q:\n%s", line, out.String())
		}
	}
}

// TestPlanARM64DTBNotAcross2M: a device tree that would straddle a 2 MiB
// boundary moves to the next block.
func TestPlanARM64DTBNotAcross2M(t *testing.T) {
	sys, err := ReadARM64System(fakeARM64Root(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	fdt, err := dt.ReadFDT(bytes.NewReader(virtDTB(t)))
	if err != nil {
		t.Fatal(err)
	}
	fdt.RootNode.Children = append(fdt.RootNode.Children, dt.NewNode("pad", dt.WithProperty(dt.Property{Name: "blob", Value: make([]byte, 8192)})))
	var big bytes.Buffer
	fdt.Write(&big)
	// The initrd ends at 0x701fe000, two pages short of 0x70200000.
	p, err := PlanARM64(sys, ARM64Inputs{Kernel: synthARM64Image(0x9a0200, 0xc00000), Initrd: make([]byte, 0x7fe000), DTB: big.Bytes(), Rand: &counting{}})
	if err != nil {
		t.Fatal(err)
	}
	if dtb := p.Segments[2]; dtb.Name != "dtb" || dtb.Mem != 0x70200000 || dtb.Memsz != 0x3000 {
		t.Errorf("dtb at %#x+%#x (%#x bytes), want 0x70200000+0x3000", dtb.Mem, dtb.Memsz, len(dtb.Buf))
	}
}

func TestPlanARM64DTB(t *testing.T) {
	_, p := planVirt(t, 0x6a3c41)
	fdt, err := dt.ReadFDT(bytes.NewReader(p.Segments[2].Buf))
	if err != nil {
		t.Fatal(err)
	}
	chosen, _ := fdt.RootNode.LookupChildByName("chosen")
	prop := func(name string) []byte {
		pr, ok := chosen.LookProperty(name)
		if !ok {
			t.Errorf("/chosen has no %s", name)
			return nil
		}
		return pr.Value
	}
	be64 := func(vs ...uint64) []byte {
		var b []byte
		for _, v := range vs {
			b = binary.BigEndian.AppendUint64(b, v)
		}
		return b
	}
	for name, want := range map[string][]byte{
		"linux,elfcorehdr":          be64(0x7edf0000, 0x1000),
		"linux,usable-memory-range": be64(0x6ee00000, 0x10000000),
		"linux,initrd-start":        be64(0x6fa00000),
		"linux,initrd-end":          be64(0x6fa00000 + 0x6a3c41),
		"kaslr-seed":                {0, 1, 2, 3, 4, 5, 6, 7}, // fresh, not the zeros the first kernel left
		"bootargs":                  []byte("console=ttyAMA0 nr_cpus=1 reset_devices kdumpkit.mode=capture\x00"),
	} {
		if got := prop(name); !bytes.Equal(got, want) {
			t.Errorf("%s = %x, want %x", name, got, want)
		}
	}
	if seed := prop("rng-seed"); len(seed) != rngSeedSize || seed[0] != 8 {
		t.Errorf("rng-seed %x: want %d bytes after the kaslr-seed's", seed, rngSeedSize)
	}
}

// TestPlanARM64Purgatory disassembles the entry segment: it must load the
// device tree's address into x0, zero x1-x3 and branch to the Image.
func TestPlanARM64Purgatory(t *testing.T) {
	_, p := planVirt(t, 0x1000)
	code := p.Segments[3].Buf
	want := []string{"ldr x0, .+0x18", "ldr x17, .+0x1c", "mov x1, xzr", "mov x2, xzr", "mov x3, xzr", "br x17"}
	for i, w := range want {
		inst, err := arm64asm.Decode(code[4*i:])
		if err != nil {
			t.Fatalf("word %d %#08x: %v", i, binary.LittleEndian.Uint32(code[4*i:]), err)
		}
		if got := arm64asm.GNUSyntax(inst); got != w {
			t.Errorf("word %d: %s, want %s", i, got, w)
		}
	}
	// The literals the two loads reach: 0x18 and 4 + 0x1c.
	if dtb, entry := binary.LittleEndian.Uint64(code[0x18:]), binary.LittleEndian.Uint64(code[0x20:]); dtb != p.DTBAddr || entry != p.Segments[0].Mem {
		t.Errorf("literals dtb %#x entry %#x, want %#x %#x", dtb, entry, p.DTBAddr, p.Segments[0].Mem)
	}
}

// TestARM64CoreHeaderSane reads our ELF core header back the way a dump
// reader would and checks what Debian's kexec-tools got wrong on 6.1 (a
// kernel PT_LOAD at 0xffffffffffffffff with p_filesz 0xffff8000…, a
// /proc/vmcore of 18446677537077211136 bytes): every program header has
// the value the kernel's own crash_prepare_elf64_headers would give it,
// and the analyzer's arm64 translation takes every p_vaddr to its p_paddr.
func TestARM64CoreHeaderSane(t *testing.T) {
	sys, p := planVirt(t, 0x1000)
	hb := p.Segments[4].Buf
	f, err := elf.NewFile(bytes.NewReader(hb))
	if err != nil {
		t.Fatal(err)
	}
	if f.Type != elf.ET_CORE || f.Machine != elf.EM_AARCH64 || f.Class != elf.ELFCLASS64 || f.Data != elf.ELFDATA2LSB || len(hb)%4096 != 0 {
		t.Errorf("%v %v %v %v, %d bytes", f.Type, f.Machine, f.Class, f.Data, len(hb))
	}
	type ph struct {
		typ                       elf.ProgType
		paddr, vaddr, filesz, off uint64
	}
	want := []ph{
		{elf.PT_NOTE, 0x7fdd1a20, 0, 432, 0x7fdd1a20}, // cpu0's crash_notes
		{elf.PT_NOTE, 0x7fdf0a20, 0, 432, 0x7fdf0a20}, // cpu1's
		{elf.PT_NOTE, 0x40c2a000, 0, 0x1000, 0x40c2a000},
		{elf.PT_LOAD, 0x40200000, virtText, 0xc00000, 0x40200000},                    // the image: _text.._end
		{elf.PT_LOAD, 0x40000000, virtLinearRAM, 0x2ee00000, 0x40000000},             // RAM below the crash region
		{elf.PT_LOAD, 0x7ee00000, virtLinearRAM + 0x3ee00000, 0x1200000, 0x7ee00000}, // and above it
	}
	if len(f.Progs) != len(want) {
		t.Fatalf("%d program headers, want %d", len(f.Progs), len(want))
	}
	var loads []dump.Segment
	var vmcoreSize uint64 = uint64(len(hb))
	for i, w := range want {
		g := f.Progs[i]
		got := ph{g.Type, g.Paddr, g.Vaddr, g.Filesz, g.Off}
		if got != w || g.Memsz != g.Filesz {
			t.Errorf("phdr %d: %+v memsz %#x, want %+v", i, got, g.Memsz, w)
		}
		vmcoreSize += g.Filesz
		if g.Type == elf.PT_LOAD {
			loads = append(loads, dump.Segment{Paddr: g.Paddr, Vaddr: g.Vaddr, Memsz: g.Memsz, Filesz: g.Filesz})
		}
	}
	// What /proc/vmcore would measure: under the RAM plus the image.
	if vmcoreSize > 1<<30+0xc00000+0x10000 {
		t.Errorf("/proc/vmcore would be %d bytes, more than the machine's RAM", vmcoreSize)
	}
	info, err := vmcoreinfo.Parse([]byte(virtVMCOREINFO()))
	if err != nil {
		t.Fatal(err)
	}
	a, err := arch.ForMachine(elf.EM_AARCH64)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := a.NewTranslator(nil, info, loads)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range loads {
		for _, off := range []uint64{0, l.Memsz / 2, l.Memsz - 8} {
			if pa, err := tr.Translate(l.Vaddr + off); err != nil || pa != l.Paddr+off {
				t.Errorf("analyzer translates %#x to %#x (%v), the header says %#x", l.Vaddr+off, pa, err, l.Paddr+off)
			}
		}
	}
	if sys.LinearVaddr(0x7ee00000) != want[5].vaddr {
		t.Errorf("LinearVaddr disagrees with the header")
	}
}

// TestPlanARM64TooSmall: a crash region the files do not fit, or fit
// without the kernel's two pages, is refused before the system call.
func TestPlanARM64TooSmall(t *testing.T) {
	sys, err := ReadARM64System(fakeARM64Root(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	in := ARM64Inputs{Kernel: synthARM64Image(0x9a0200, 0xc00000), DTB: virtDTB(t), Rand: &counting{}, Initrd: make([]byte, 250<<20)}
	if _, err := PlanARM64(sys, in); err == nil || !strings.Contains(err.Error(), "lies outside the crash region 0x6ee00000-0x7edfffff: crashkernel= is too small") {
		t.Errorf("250 MiB initrd: %v", err)
	}
	// With 64 KiB pages the header takes the region's last page, and an
	// initrd can fill everything below the device tree and purgatory
	// exactly, leaving the kernel no page of its own.
	sys.PageSize = 64 << 10
	in.Initrd = make([]byte, 0x7edf0000-0x6ee00000-0xc00000-2*0x10000)
	if _, err := PlanARM64(sys, in); err == nil || !strings.Contains(err.Error(), "control page") {
		t.Errorf("a full region: %v", err)
	}
	in.Initrd = in.Initrd[:len(in.Initrd)-2*0x10000]
	if _, err := PlanARM64(sys, in); err != nil {
		t.Errorf("two pages left: %v", err)
	}
}

// TestPlanARM64LowRegion: with crashkernel=,high the low part is left out
// of the dump and given to the capture kernel after the crash region.
func TestPlanARM64LowRegion(t *testing.T) {
	iomem := virtIOMem + "80000000-13fffffff : System RAM\n  100000000-10fffffff : Crash kernel\n"
	iomem = strings.Replace(iomem, "6ee00000-7edfffff : Crash kernel", "6ee00000-6fdfffff : Crash kernel (low)", 1)
	sys, err := ReadARM64System(fakeARM64Root(t, map[string]string{"proc/iomem": iomem}))
	if err != nil {
		t.Fatal(err)
	}
	p, err := PlanARM64(sys, ARM64Inputs{Kernel: synthARM64Image(0x9a0200, 0xc00000), DTB: virtDTB(t), Rand: &counting{}})
	if err != nil {
		t.Fatal(err)
	}
	wantUsable := []Range{{0x40000000, 0x6edfffff}, {0x6fe00000, 0x7fffffff}, {0x80000000, 0xffffffff}, {0x110000000, 0x13fffffff}}
	if fmt.Sprint(p.Usable) != fmt.Sprint(wantUsable) {
		t.Errorf("usable %v, want %v", p.Usable, wantUsable)
	}
	fdt, _ := dt.ReadFDT(bytes.NewReader(p.Segments[1].Buf))
	chosen, _ := fdt.RootNode.LookupChildByName("chosen")
	r, _ := chosen.LookProperty("linux,usable-memory-range")
	if r == nil || len(r.Value) != 32 || binary.BigEndian.Uint64(r.Value) != 0x100000000 || binary.BigEndian.Uint64(r.Value[16:]) != 0x6ee00000 {
		t.Errorf("usable-memory-range %x: want the crash region, then the low part", r)
	}
	if p.Segments[0].Mem != 0x100000000 {
		t.Errorf("kernel at %#x, want in the high crash region", p.Segments[0].Mem)
	}
}

func FuzzParseARM64Image(f *testing.F) {
	f.Add(synthARM64Image(0x100, 0x2000))
	f.Fuzz(func(t *testing.T, b []byte) {
		im, err := ParseARM64Image(b)
		if err != nil {
			return
		}
		if im.ImageSize < uint64(len(b)) || im.TextOffset >= 2<<20 || im.Flags&arm64FlagBE != 0 {
			t.Fatalf("accepted %+v for %d bytes", im, len(b))
		}
	})
}

func FuzzVMCOREINFOFromCore(f *testing.F) {
	f.Add(fakeKcore(virtVMCOREINFO()))
	f.Fuzz(func(t *testing.T, b []byte) {
		if info, err := vmcoreinfoFromCore(bytes.NewReader(b), "kcore"); err == nil && info == nil {
			t.Fatal("no error and no VMCOREINFO")
		}
	})
}

// FuzzPlanARM64 plans with fuzzed kallsyms and iomem: whatever it
// accepts keeps every segment page-aligned inside the crash region and
// the image's PT_LOAD within RAM.
func FuzzPlanARM64(f *testing.F) {
	f.Add(virtIOMem, fmt.Sprintf("%x T _text\n%x T _stext\n%x B _end\n", uint64(virtText), uint64(virtStext), uint64(virtEnd)), uint64(0xc00000))
	f.Fuzz(func(t *testing.T, iomem, kallsyms string, imageSize uint64) {
		res, err := ParseIOMem(strings.NewReader(iomem))
		if err != nil {
			return
		}
		mem, err := MemoryFrom(res)
		if err != nil {
			return
		}
		syms, err := parseKallsyms(strings.NewReader(kallsyms), "kallsyms", "_text", "_stext", "_end")
		if err != nil {
			return
		}
		k, err := kernelMap(res, syms, virtVoffset)
		if err != nil {
			return
		}
		if k.End < k.Start || k.Vaddr-virtVoffset != k.Start {
			t.Fatalf("kernel map %+v", k)
		}
		sys := &ARM64System{System: System{Memory: mem, VMCOREINFO: CoreNote{0x1000, 0x1000}, PageOffset: 0xffff000000000000},
			Kernel: k, PhysOffset: virtPhysOffset, VABits: 48, PageSize: 4096}
		img := synthARM64Image(0x100, max(imageSize%(1<<31), 0x100))
		p, err := PlanARM64(sys, ARM64Inputs{Kernel: img, DTB: virtDTB(t), Rand: &counting{}})
		if err != nil {
			return
		}
		for _, s := range p.Segments {
			if s.Mem%4096 != 0 || s.Memsz%4096 != 0 || s.Mem < mem.Crash.Start || s.Mem+s.Memsz-1 > mem.Crash.End || uint64(len(s.Buf)) > s.Memsz {
				t.Fatalf("segment %s %#x+%#x outside %v or unaligned", s.Name, s.Mem, s.Memsz, mem.Crash)
			}
		}
	})
}
