package kexec

import (
	"bufio"
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kdumpkit/kdumpkit/internal/testdump"
	"github.com/u-root/u-root/pkg/dt"
)

const vexpressIOMem = `10000000-10000fff : 10000000.sysreg sysreg@0
60000000-7fffffff : System RAM
  60008000-60ffffff : Kernel code
  61100000-611c8a4b : Kernel data
  78000000-7bffffff : Crash kernel
`

func TestParseIOMemEdgeCases(t *testing.T) {
	res, err := ParseIOMem(strings.NewReader(vexpressIOMem + "80000000-8fffffff : System RAM\n  80000000-80000fff : reserved\n"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := MemoryFrom(res)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.RAM) != 2 || m.Crash != (Range{0x78000000, 0x7bffffff}) {
		t.Fatalf("%+v", m)
	}
	want := []Range{{0x60000000, 0x77ffffff}, {0x7c000000, 0x7fffffff}, {0x80000000, 0x8fffffff}}
	if got := m.Usable(); len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("usable %v", got)
	}
	// A crash region at the very start or end of a bank leaves one piece.
	m2 := Memory{RAM: []Range{{0x60000000, 0x7fffffff}}, Crash: Range{0x60000000, 0x63ffffff}}
	if got := m2.Usable(); len(got) != 1 || got[0] != (Range{0x64000000, 0x7fffffff}) {
		t.Errorf("crash at start: %v", got)
	}
	for _, bad := range []string{"zz-10 : x\n", "10-5 : backwards\n", "60000000-7fffffff System RAM\n"} {
		if _, err := ParseIOMem(strings.NewReader(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	res, _ = ParseIOMem(strings.NewReader("60000000-7fffffff : System RAM\n"))
	if _, err := MemoryFrom(res); !errors.Is(err, ErrNoCrashRegion) {
		t.Errorf("no crash region: %v", err)
	}
}

// fakeRoot writes the procfs/sysfs files a crash load reads, for the
// vexpress-a9 machine of the reference run.
func fakeRoot(t *testing.T, cpus string) string {
	root := t.TempDir()
	files := map[string]string{
		"proc/iomem":                                   vexpressIOMem,
		"proc/kallsyms":                                "80100000 T _stext\n80100000 T stext\n",
		"sys/devices/system/cpu/possible":              cpus + "\n",
		"sys/kernel/vmcoreinfo":                        "6114c000 1024\n",
		"sys/devices/system/cpu/cpu0/crash_notes":      "7ebe2800\n",
		"sys/devices/system/cpu/cpu0/crash_notes_size": "180\n",
		"sys/devices/system/cpu/cpu1/crash_notes":      "7ebf2800\n",
		"sys/devices/system/cpu/cpu1/crash_notes_size": "180\n",
	}
	for name, body := range files {
		p := filepath.Join(root, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(body), 0o644)
	}
	return root
}

// synthZImage is a zImage-shaped file of size bytes whose KRNL_SIZE tag
// says text+data edata and bss bss, like the reference zImage's.
func synthZImage(size, edata, bss uint32) []byte {
	b := make([]byte, size)
	le := binary.LittleEndian
	le.PutUint32(b[0x24:], zImageMagic)
	le.PutUint32(b[0x2c:], size)
	le.PutUint32(b[0x30:], 0x04030201)
	le.PutUint32(b[0x34:], zImageTableMagic)
	le.PutUint32(b[0x38:], 0x100)
	le.PutUint32(b[0x100:], 4)
	le.PutUint32(b[0x104:], tagKrnlSize)
	le.PutUint32(b[0x108:], size-4) // the size word is the image's last
	le.PutUint32(b[0x10c:], bss)
	le.PutUint32(b[size-4:], edata)
	return b
}

func synthDTB(t *testing.T) []byte {
	fdt := &dt.FDT{Header: dt.Header{Magic: dt.Magic, Version: 17, LastCompVersion: 16}, RootNode: dt.NewNode("", dt.WithProperty(
		dt.PropertyU32("#address-cells", 1), dt.PropertyU32("#size-cells", 1)), dt.WithChildren(dt.NewNode("chosen")))}
	var b bytes.Buffer
	if _, err := fdt.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestElfCoreHeaderParsesBack(t *testing.T) {
	sys, err := ReadSystem(fakeRoot(t, "0-1"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := PlanARM(sys, ARMInputs{Kernel: synthZImage(0x10000, 0x40000, 0x1000), Initrd: []byte("initrd"), DTB: synthDTB(t), Cmdline: "console=ttyAMA0"})
	if err != nil {
		t.Fatal(err)
	}
	hdr := p.Segments[len(p.Segments)-1]
	f, err := elf.NewFile(bytes.NewReader(hdr.Buf))
	if err != nil {
		t.Fatal(err)
	}
	if f.Type != elf.ET_CORE || f.Machine != elf.EM_ARM || f.Class != elf.ELFCLASS32 {
		t.Errorf("%v %v %v", f.Type, f.Machine, f.Class)
	}
	type ph struct {
		typ                elf.ProgType
		off, vaddr, filesz uint64
	}
	var got []ph
	for _, p := range f.Progs {
		got = append(got, ph{p.Type, p.Off, p.Vaddr, p.Filesz})
		if p.Off != p.Paddr {
			t.Errorf("p_offset %#x != p_paddr %#x", p.Off, p.Paddr)
		}
	}
	want := []ph{
		{elf.PT_NOTE, 0x7ebe2800, 0, 180}, // cpu0 crash_notes
		{elf.PT_NOTE, 0x7ebf2800, 0, 180}, // cpu1
		{elf.PT_NOTE, 0x6114c000, 0, 0x1024},
		{elf.PT_LOAD, 0x60000000, 0x80000000, 0x18000000}, // RAM below the crash region, PAGE_OFFSET 0x80000000
		{elf.PT_LOAD, 0x7c000000, 0x9c000000, 0x4000000},  // and above it
	}
	if len(got) != len(want) {
		t.Fatalf("program headers %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("phdr %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestELF64WhenRAMAbove4G(t *testing.T) {
	h := CoreHeader{Machine: elf.EM_ARM, Class: elf.ELFCLASS64, Loads: []Range{{0x8_0000_0000, 0x8_3fff_ffff}}, PageOffset: 0xc0000000, PhysOffset: 0x8_0000_0000}
	f, err := elf.NewFile(bytes.NewReader(h.Bytes()))
	if err != nil || f.Class != elf.ELFCLASS64 || f.Progs[0].Paddr != 0x8_0000_0000 || f.Progs[0].Vaddr != 0xc0000000 {
		t.Fatalf("%v %+v", err, f)
	}
}

func TestDTBEdit(t *testing.T) {
	out, err := EditDTB(synthDTB(t), DTBEdit{Bootargs: "console=ttyAMA0 elfcorehdr=0x7bf00000", Initrd: &Range{0x792e2000, 0x7991d5e7},
		ElfCoreHdr: Range{0x7bf00000, 0x7bf003ff}, UsableMemory: Range{0x78000000, 0x7bffffff}})
	if err != nil {
		t.Fatal(err)
	}
	fdt, err := dt.ReadFDT(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	chosen, _ := fdt.RootNode.LookupChildByName("chosen")
	check := func(name string, want []uint32) {
		p, ok := chosen.LookProperty(name)
		if !ok || len(p.Value) != 4*len(want) {
			t.Errorf("%s: %v", name, p)
			return
		}
		for i, w := range want {
			if g := binary.BigEndian.Uint32(p.Value[4*i:]); g != w {
				t.Errorf("%s[%d] = %#x, want %#x", name, i, g, w)
			}
		}
	}
	check("linux,initrd-start", []uint32{0x792e2000})
	check("linux,initrd-end", []uint32{0x7991d5e8})
	check("linux,elfcorehdr", []uint32{0x7bf00000, 0x400})
	check("linux,usable-memory-range", []uint32{0x78000000, 0x4000000})
	if s, _ := fdt.Root().Walk("chosen").Property("bootargs").AsString(); s != "console=ttyAMA0 elfcorehdr=0x7bf00000" {
		t.Errorf("bootargs %q", s)
	}
	if _, err := EditDTB([]byte("not a dtb"), DTBEdit{}); err == nil {
		t.Error("garbage DTB accepted")
	}
}

func TestZImage(t *testing.T) {
	z, err := ParseZImage(synthZImage(0x52b410, 0xd9d190, 0x2e0e0))
	if err != nil {
		t.Fatal(err)
	}
	if z.Size != 0x52b410 || z.Edata != 0xd9d190 || z.BSS != 0x2e0e0 || z.Space() != 0x12d95a0 {
		t.Errorf("%+v space %#x", z, z.Space())
	}
	if _, err := ParseZImage(make([]byte, 0x100)); err == nil {
		t.Error("no magic accepted")
	}
	b := synthZImage(0x1000, 0, 0)
	binary.LittleEndian.PutUint32(b[0x34:], 0) // an old zImage: no tag table
	if z, err := ParseZImage(b); err != nil || z.Space() != 4*0x1000+0x1000+0x11000 {
		t.Errorf("untagged: %+v %v", z, err)
	}
}

// kexecTools is what kexec-tools 2.0.25 (Debian's armhf build) printed
// with -d for `kexec -p` on the vexpress-a9 machine of fakeRoot (512 MiB,
// crashkernel=64M at 0x78000000, one CPU), with a 0x52b410-byte zImage
// whose KRNL_SIZE tag says 0xd9d190 + 0x2e0e0 and a 0x63b5e8-byte initrd,
// recorded on 2026-11-23 from a run of Debian's packages under QEMU.
// Left out by design: segment[2]'s bufsz and memsz (kexec-tools pads the
// DTB it edits with a fixed slack; ours is written at its natural size —
// its address does not move, as it depends only on what precedes it).
var kexecTools = map[string]string{
	"kexec_load: entry":   "0x78008000 flags = 0x280001",
	"nr_segments":         "4",
	"segment[0].mem":      "0x78008000",
	"segment[0].memsz":    "0x52c000",
	"segment[1].mem":      "0x792e2000",
	"segment[1].memsz":    "0x63c000",
	"segment[2].mem":      "0x7991e000",
	"segment[3].mem":      "0x7bf00000",
	"segment[3].memsz":    "0x1000",
	"kernel command line": `"console=ttyAMA0 maxcpus=1 reset_devices elfcorehdr=0x7bf00000 mem=64512K"`,
}

// TestLayoutMatchesKexecTools lays out the machine and files kexec-tools
// was run on and compares our -d output with what it printed.
func TestLayoutMatchesKexecTools(t *testing.T) {
	sys, err := ReadSystem(fakeRoot(t, "0"))
	if err != nil {
		t.Fatal(err)
	}
	in := ARMInputs{Kernel: synthZImage(0x52b410, 0xd9d190, 0x2e0e0), Initrd: make([]byte, 0x63b5e8), DTB: synthDTB(t),
		Cmdline: "console=ttyAMA0 maxcpus=1 reset_devices"}
	p, err := PlanARM(sys, in)
	if err != nil {
		t.Fatal(err)
	}
	var ours bytes.Buffer
	p.WriteDebug(&ours, flagOnCrash|archARM)
	got := keyLines(ours.Bytes())
	for k, v := range kexecTools {
		if got[k] != v {
			t.Errorf("%s: ours %q, kexec-tools %q", k, got[k], v)
		}
	}
}

var keyLine = regexp.MustCompile(`^(kexec_load: entry|nr_segments|segment\[\d\]\.(?:memsz|mem|bufsz)|kernel command line|elfcorehdr|crashkernel|Resulting kernel space)\s*[=:]?\s*(.*)$`)

func keyLines(b []byte) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if m := keyLine.FindStringSubmatch(strings.TrimSpace(sc.Text())); m != nil {
			out[m[1]] = strings.TrimSpace(m[2])
		}
	}
	return out
}

func TestSegmentOutsideRegionNamed(t *testing.T) {
	sys, err := ReadSystem(fakeRoot(t, "0"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = PlanARM(sys, ARMInputs{Kernel: synthZImage(0x52b410, 0xd9d190, 0x2e0e0), Initrd: make([]byte, 60<<20), DTB: synthDTB(t)})
	if err == nil || !strings.Contains(err.Error(), "lies outside the crash region 0x78000000-0x7bffffff") && !strings.Contains(err.Error(), "overlaps") {
		t.Errorf("err = %v", err)
	}
}

func FuzzParseIOMem(f *testing.F) {
	f.Add(vexpressIOMem)
	f.Fuzz(func(t *testing.T, s string) {
		res, err := ParseIOMem(strings.NewReader(s))
		if err != nil {
			return
		}
		if m, err := MemoryFrom(res); err == nil {
			for _, r := range m.Usable() {
				if r.End < r.Start {
					t.Fatalf("usable range %v backwards", r)
				}
			}
		}
	})
}

func FuzzParseZImage(f *testing.F) {
	f.Add(synthZImage(0x400, 0x1000, 0x100))
	f.Fuzz(func(t *testing.T, b []byte) {
		if z, err := ParseZImage(b); err == nil && uint64(z.Size) > uint64(len(b)) {
			t.Fatalf("size %d beyond %d bytes", z.Size, len(b))
		}
	})
}

func FuzzEditDTB(f *testing.F) {
	fdt := &dt.FDT{Header: dt.Header{Magic: dt.Magic, Version: 17, LastCompVersion: 16}, RootNode: dt.NewNode("", dt.WithChildren(dt.NewNode("chosen")))}
	var b bytes.Buffer
	fdt.Write(&b)
	f.Add(b.Bytes())
	f.Fuzz(func(t *testing.T, blob []byte) {
		EditDTB(blob, DTBEdit{Bootargs: "x", ElfCoreHdr: Range{0x1000, 0x1fff}, UsableMemory: Range{0, 0xffff}})
	})
}

// TestRealZImageSizes reads the KRNL_SIZE tag of the test dump's zImage
// and checks it against the vmlinux it was built from: the kernel's
// compressed/Makefile takes bss as __bss_stop − __bss_start, and the
// decompressed Image spans _text to _edata.
func TestRealZImageSizes(t *testing.T) {
	td := testdump.Require(t)
	img, err := os.ReadFile(td.Image)
	if err != nil {
		t.Fatal(err)
	}
	z, err := ParseZImage(img)
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.Open(td.Vmlinux)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	at := map[string]uint64{}
	for _, s := range syms {
		at[s.Name] = s.Value
	}
	if want := at["__bss_stop"] - at["__bss_start"]; uint64(z.BSS) != want {
		t.Errorf("KRNL_SIZE bss %#x, vmlinux __bss_stop-__bss_start %#x", z.BSS, want)
	}
	if want := at["_edata"] - at["_text"]; uint64(z.Edata) != want {
		t.Errorf("KRNL_SIZE text+data %#x, vmlinux _edata-_text %#x", z.Edata, want)
	}
}
