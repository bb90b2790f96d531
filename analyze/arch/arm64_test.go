package arch

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/kdumpkit/kdumpkit/analyze/dump"
	"github.com/kdumpkit/kdumpkit/analyze/vmcoreinfo"
)

// sparse is physical memory made of 4 KiB frames written by a test; a
// read of a frame never written fails as a dump's hole does.
type sparse map[uint64]*[4096]byte

func (m sparse) frame(pa uint64) *[4096]byte {
	f := m[pa>>12]
	if f == nil {
		f = new([4096]byte)
		m[pa>>12] = f
	}
	return f
}

func (m sparse) put64(pa, v uint64) { binary.LittleEndian.PutUint64(m.frame(pa)[pa&0xfff:], v) }
func (m sparse) put(pa uint64, s string) {
	for i := range len(s) {
		m.frame(pa + uint64(i))[(pa+uint64(i))&0xfff] = s[i]
	}
}

func (m sparse) ReadPhys(b []byte, pa uint64) error {
	for i := range b {
		f := m[(pa+uint64(i))>>12]
		if f == nil {
			return fmt.Errorf("%w: %#x", dump.ErrNotInDump, pa+uint64(i))
		}
		b[i] = f[(pa+uint64(i))&0xfff]
	}
	return nil
}

// arm64Info is VMCOREINFO as arch/arm64/kernel/vmcore_info.c writes it,
// swapper_pg_dir at 0xffff800081e00000.
func arm64Info(t *testing.T, pageSize, vaBits, t1sz int, voff, phys uint64, extra string) *vmcoreinfo.Info {
	t.Helper()
	s := fmt.Sprintf("PAGESIZE=%d\nNUMBER(VA_BITS)=%d\nNUMBER(kimage_voffset)=0x%x\n", pageSize, vaBits, voff) + extra
	if !strings.Contains(extra, "SYMBOL(swapper_pg_dir)") {
		s += "SYMBOL(swapper_pg_dir)=ffff800081e00000\n"
	}
	if phys != 0 {
		s += fmt.Sprintf("NUMBER(PHYS_OFFSET)=0x%x\n", phys)
	}
	if t1sz != 0 {
		s += fmt.Sprintf("NUMBER(TCR_EL1_T1SZ)=0x%x\n", t1sz)
	}
	i, err := vmcoreinfo.Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return i
}

// TestARM64Walk48 maps by hand, with the indexes worked out on paper, the
// 4K/48-bit case the arm64 board runs: swapper_pg_dir at VA
// 0xffff800081e00000 (KASLR'd image, kimage_voffset 0xffff7fff c0000000
// puts it at PA 0x41e00000), a 4 KiB page at 0xffff800080001000 (indexes
// 256, 2, 0, 1), a 2 MiB block at 0xffff800080400000 (256, 2, 2) and a
// 1 GiB block at 0xffff800100000000 (256, 4). Each descriptor carries
// attribute bits (AF, SH, nG, PXN, UXN, a software bit) that must not leak
// into the output address.
func TestARM64Walk48(t *testing.T) {
	m := sparse{}
	const (
		pgd   = 0x41e00000
		voff  = 0xffff800081e00000 - pgd // swapper_pg_dir's VA − PA
		attrs = 1<<10 | 3<<8 | 1<<11 | 1<<53 | 1<<54 | 1<<58
	)
	m.put64(pgd+256*8, 0x41e01000|3)
	m.put64(0x41e01000+2*8, 0x41e02000|3)
	m.put64(0x41e02000+0*8, 0x41e03000|3)
	m.put64(0x41e03000+1*8, 0x47654000|3|attrs)
	m.put(0x47654000+0x234, "page")
	m.put64(0x41e02000+2*8, 0x48000000|1|attrs)
	m.put(0x48000000+0x1f0000, "2M block")
	m.put64(0x41e01000+4*8, 0x40000000|1|attrs)
	m.put(0x40000000+0x3456789, "1G block")
	info := arm64Info(t, 4096, 48, 16, voff, 0x40000000, "")
	tr, err := arm64{}.NewTranslator(m, info, nil)
	if err != nil {
		t.Fatal(err)
	}
	for va, want := range map[uint64]uint64{
		0xffff800080001234: 0x47654234,
		0xffff8000805f0000: 0x481f0000,
		0xffff800103456789: 0x43456789,
		0xffff000000001000: 0x40001000, // linear: PAGE_OFFSET + 0x1000
	} {
		if pa, err := tr.Translate(va); err != nil || pa != want {
			t.Errorf("Translate(%#x) = %#x, %v; want %#x", va, pa, err, want)
		}
	}
	for va, why := range map[uint64]string{
		0xffff800080002000: "level-3 descriptor 0x0 is invalid",
		0xffff808000000000: "level-0 descriptor 0x0 is invalid",
		0x0000800080001000: "not a kernel address",
	} {
		_, err := tr.Translate(va)
		if !errors.Is(err, ErrNotMapped) || !strings.Contains(err.Error(), fmt.Sprintf("%#x", va)) || !strings.Contains(err.Error(), why) {
			t.Errorf("Translate(%#x): %v; want ErrNotMapped naming the address and %q", va, err, why)
		}
	}
}

// TestARM64Reserved: a block where the granule has none (level 0 with 4K
// pages, level 1 with 64K) and 0b01 at level 3 are faults, not mappings.
func TestARM64Reserved(t *testing.T) {
	m := sparse{}
	const pgd, voff = 0x41e00000, 0xffff800081e00000 - 0x41e00000
	m.put64(pgd+256*8, 0x40000000|1) // a "512 GiB block" at level 0
	m.put64(pgd+257*8, 0x41e01000|3)
	m.put64(0x41e01000, 0x41e02000|3)
	m.put64(0x41e02000, 0x41e03000|3)
	m.put64(0x41e03000, 0x40000000|1) // 0b01 at level 3
	tr, err := arm64{}.NewTranslator(m, arm64Info(t, 4096, 48, 0, voff, 0, ""), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, va := range []uint64{0xffff800000000000, 0xffff808000000000} {
		if _, err := tr.Translate(va); !errors.Is(err, ErrNotMapped) || !strings.Contains(err.Error(), "reserved descriptor") {
			t.Errorf("Translate(%#x): %v, want a reserved-descriptor fault", va, err)
		}
	}
}

// granule describes a translation regime for the table builder.
type granule struct {
	name           string
	page, va, t1sz int
	levels         int
	lpa2           bool
	// ttbrOff is where a 48-bit CPU's TTBR1 points into a 52-bit
	// kernel's 64K pgd (TTBR1_BADDR_4852_OFFSET); 0 otherwise.
	ttbrOff      uint64
	pa           uint64 // where the test maps a page: above 4 GiB, to 52 bits where the format allows
	blockLevel   int    // a level whose blocks the granule allows
	noBlockLevel int    // a level whose blocks it forbids; −2: none to test
}

// tables builds a regime's tables the way the MMU reads them (ARM ARM
// D8.3), from the view of the CPU: walkVA bits, the root TTBR1 points at.
type tables struct {
	g      granule
	walkVA int
	m      sparse
	next   uint64
}

func (tb *tables) pageShift() int { return map[int]int{4096: 12, 16384: 14, 65536: 16}[tb.g.page] }

func (tb *tables) desc(addr uint64, low uint64) uint64 {
	switch {
	case tb.g.lpa2:
		return addr&(1<<50-1) | (addr>>50&3)<<8 | low
	case tb.g.page == 65536:
		return addr&(1<<48-1) | (addr>>48&0xf)<<12 | low
	}
	return addr | low
}

// addr decodes what desc encoded.
func (tb *tables) addr(e uint64) uint64 {
	low := uint64(1)<<tb.pageShift() - 1
	switch {
	case tb.g.lpa2:
		return e&(1<<50-1)&^low | (e>>8&3)<<50
	case tb.g.page == 65536:
		return e&(1<<48-1)&^low | (e>>12&0xf)<<48
	}
	return e & (1<<48 - 1) &^ low
}

// mapAt maps va to pa with a leaf at hardware level leaf (3: a page),
// making the tables on the way that do not exist yet.
func (tb *tables) mapAt(root, va, pa uint64, leaf int) {
	ps := tb.pageShift()
	levels := (tb.walkVA - 4) / (ps - 3)
	table := root
	for level := 4 - levels; ; level++ {
		shift := ps + (3-level)*(ps-3)
		mask := uint64(1)<<(ps-3) - 1
		if level == 4-levels {
			mask = uint64(1)<<(tb.walkVA-shift) - 1
		}
		slot := table + (va>>shift&mask)*8
		if level == leaf {
			low := uint64(3)
			if leaf < 3 {
				low = 1
			}
			tb.m.put64(slot, tb.desc(pa, low|1<<10))
			return
		}
		var b [8]byte
		if tb.m.ReadPhys(b[:], slot) == nil && binary.LittleEndian.Uint64(b[:]) != 0 {
			table = tb.addr(binary.LittleEndian.Uint64(b[:]))
			continue
		}
		nt := tb.next
		tb.next += uint64(tb.g.page)
		tb.m.put64(slot, tb.desc(nt, 3))
		table = nt
	}
}

// TestARM64Granules walks every granule and VA size Linux offers on arm64
// (arch/arm64/Kconfig, 6.12), 52-bit ones with LPA2 descriptors (4K, 16K)
// or FEAT_LPA's (64K) and output addresses above 48 bits, a 52-bit
// kernel on a 48-bit CPU (TCR_EL1.T1SZ = 16), and blocks where each
// granule allows them and where it does not.
func TestARM64Granules(t *testing.T) {
	cases := []granule{
		{name: "4K/39", page: 4096, va: 39, levels: 3, blockLevel: 1, pa: 0x8_1234_5000, noBlockLevel: -2},
		{name: "4K/48", page: 4096, va: 48, levels: 4, blockLevel: 2, pa: 0xff_ffff_f000, noBlockLevel: 0},
		{name: "4K/52 LPA2", page: 4096, va: 52, levels: 5, lpa2: true, blockLevel: 0, pa: 0xf_8000_0000_3000, noBlockLevel: -1},
		{name: "4K/52 on a 48-bit CPU", page: 4096, va: 52, t1sz: 16, levels: 4, blockLevel: 1, pa: 0x1_0000_3000, noBlockLevel: 0},
		{name: "16K/36", page: 16384, va: 36, levels: 2, blockLevel: 2, pa: 0x2_0000_4000, noBlockLevel: -2},
		{name: "16K/47", page: 16384, va: 47, levels: 3, blockLevel: 2, pa: 0x2_0000_4000, noBlockLevel: 1},
		{name: "16K/48", page: 16384, va: 48, levels: 4, blockLevel: 2, pa: 0x2_0000_4000, noBlockLevel: 1},
		{name: "16K/52 LPA2", page: 16384, va: 52, levels: 4, lpa2: true, blockLevel: 1, pa: 0xc_0000_0000_8000, noBlockLevel: 0},
		{name: "16K/52 on a 47-bit CPU", page: 16384, va: 52, t1sz: 17, levels: 3, blockLevel: 2, pa: 0x2_0000_4000, noBlockLevel: 1},
		{name: "64K/42", page: 65536, va: 42, levels: 2, blockLevel: 2, pa: 0x3_0001_0000, noBlockLevel: -2},
		{name: "64K/48", page: 65536, va: 48, levels: 3, blockLevel: 2, pa: 0x3_0001_0000, noBlockLevel: 1},
		{name: "64K/52 LPA", page: 65536, va: 52, levels: 3, blockLevel: 2, pa: 0xa_0000_0001_0000, noBlockLevel: 1},
		{name: "64K/52 on a 48-bit CPU", page: 65536, va: 52, t1sz: 16, levels: 3, blockLevel: 2, pa: 0x3_0001_0000, noBlockLevel: 1, ttbrOff: (1024 - 64) * 8},
	}
	const voff = 0xffff7fffc0000000
	for _, g := range cases {
		t.Run(g.name, func(t *testing.T) {
			m := sparse{}
			walkVA := g.va
			if g.t1sz != 0 {
				walkVA = 64 - g.t1sz
			}
			tb := &tables{g: g, walkVA: walkVA, m: m, next: 0x50000000}
			if (walkVA-4)/(tb.pageShift()-3) != g.levels {
				t.Fatalf("test: %d levels, the builder makes %d", g.levels, (walkVA-4)/(tb.pageShift()-3))
			}
			root := uint64(0xffff800081e00000-voff) + g.ttbrOff
			ps := tb.pageShift()
			size := func(level int) uint64 { return 1 << (ps + (3-level)*(ps-3)) }
			// Above the linear map: from PAGE_END = -(1 << (VA bits − 1)).
			base := -(uint64(1) << (walkVA - 1))
			va := base | 0x123
			tb.mapAt(root, va, g.pa, 3)
			m.put(g.pa+0x123, "leaf page")
			bsize := size(g.blockLevel)
			bva := base + 2*bsize + bsize/2 + 8
			bpa := 0x40 * bsize
			tb.mapAt(root, bva, bpa, g.blockLevel)
			m.put(bpa+bsize/2+8, "block")
			ram := []dump.Segment{{Paddr: 0x40000000, Vaddr: -(uint64(1) << g.va), Memsz: 1 << 30}}
			tr, err := arm64{}.NewTranslator(m, arm64Info(t, g.page, g.va, g.t1sz, voff, 0x40000000, ""), ram)
			if err != nil {
				t.Fatal(err)
			}
			mem := &Memory{Phys: m, T: tr, Order: binary.LittleEndian, Arch: arm64{}}
			for addr, want := range map[uint64]string{va: "leaf page", bva: "block"} {
				if got, err := mem.ReadCString(addr, 16); err != nil || got != want {
					t.Errorf("%#x: %q, %v; want %q", addr, got, err, want)
				}
			}
			if pa, err := tr.Translate(va); err != nil || pa != g.pa+0x123 {
				t.Errorf("Translate(%#x) = %#x, %v; want %#x", va, pa, err, g.pa+0x123)
			}
			if g.noBlockLevel >= -1 {
				nva := base + 3*size(g.noBlockLevel)
				tb.mapAt(root, nva, 0x40000000, g.noBlockLevel)
				if _, err := tr.Translate(nva); !errors.Is(err, ErrNotMapped) || !strings.Contains(err.Error(), "reserved") {
					t.Errorf("block at level %d: %v, want a reserved-descriptor fault", g.noBlockLevel, err)
				}
			}
			// Outside the VA space the CPU runs: not a kernel address.
			if walkVA < 52 {
				if _, err := tr.Translate(va &^ (1 << walkVA)); !errors.Is(err, ErrNotMapped) || !strings.Contains(err.Error(), "not a kernel address") {
					t.Errorf("address with bit %d clear: %v", walkVA, err)
				}
			}
			if pa, err := tr.Translate(-(uint64(1) << g.va) + 0x1000); err != nil || pa != 0x40001000 {
				t.Errorf("linear map: %#x, %v", pa, err)
			}
		})
	}
}

// TestARM64Refuses: layouts Linux never builds are refused with the
// VMCOREINFO values named.
func TestARM64Refuses(t *testing.T) {
	for _, c := range []struct {
		page, va, t1sz int
		want           string
	}{
		{8192, 48, 0, "PAGESIZE=8192"},
		{4096, 47, 0, "NUMBER(VA_BITS)=47 with PAGESIZE=4096"},
		{65536, 39, 0, "NUMBER(VA_BITS)=39 with PAGESIZE=65536"},
		{4096, 48, 20, "NUMBER(TCR_EL1_T1SZ)=20 with NUMBER(VA_BITS)=48"},
	} {
		_, err := arm64{}.NewTranslator(sparse{}, arm64Info(t, c.page, c.va, c.t1sz, 0xffff7fffc0000000, 0x40000000, ""), nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("page %d VA %d T1SZ %d: %v; want an error naming %q", c.page, c.va, c.t1sz, err, c.want)
		}
	}
	i, _ := vmcoreinfo.Parse([]byte("PAGESIZE=4096\nNUMBER(VA_BITS)=48\nSYMBOL(swapper_pg_dir)=ffff800081e00000\n"))
	if _, err := (arm64{}).NewTranslator(sparse{}, i, nil); err == nil || !strings.Contains(err.Error(), "kimage_voffset") {
		t.Errorf("no kimage_voffset: %v", err)
	}
}

// TestARM64KASLRImage: a KASLR'd kernel image address translates to VA −
// kimage_voffset, through the image's PT_LOAD when the elfcorehdr has
// one (p_vaddr − p_paddr = kimage_voffset) and through swapper_pg_dir
// when it has not; a RAM PT_LOAD with a wrong p_vaddr (Debian's
// kexec-tools on arm64 writes such) does not override the linear map
// VMCOREINFO's PHYS_OFFSET gives.
func TestARM64KASLRImage(t *testing.T) {
	const (
		kaslr = 0x2a5c00000
		text  = 0xffff800080000000 + kaslr // KIMAGE_VADDR + KERNELOFFSET
		voff  = text - 0x40200000          // the image at PA 0x40200000
		pgd   = text + 0x1e00000
	)
	m := sparse{}
	idx := func(va uint64, shift uint) uint64 { return va >> shift & 0x1ff }
	root := uint64(pgd - voff)
	sym := uint64(text + 0x123456) // some symbol in .data
	m.put64(root+idx(sym, 39)*8, 0x41000000|3)
	m.put64(0x41000000+idx(sym, 30)*8, 0x41001000|3)
	m.put64(0x41001000+idx(sym, 21)*8, 0x41002000|3)
	m.put64(0x41002000+idx(sym, 12)*8, (sym-voff)&^0xfff|3)
	m.put(sym-voff, "init_uts_ns")
	info := arm64Info(t, 4096, 48, 16, voff, 0x40000000, fmt.Sprintf("KERNELOFFSET=%x\nSYMBOL(swapper_pg_dir)=%x\n", uint64(kaslr), uint64(pgd)))
	for _, loads := range [][]dump.Segment{
		nil,
		{{Paddr: 0x40200000, Vaddr: text, Memsz: 0x2000000, Filesz: 0x2000000}, {Paddr: 0x40000000, Vaddr: 0xffffffffffffffff, Memsz: 1 << 30}},
	} {
		tr, err := arm64{}.NewTranslator(m, info, loads)
		if err != nil {
			t.Fatal(err)
		}
		if pa, err := tr.Translate(sym); err != nil || pa != sym-voff {
			t.Errorf("%d loads: image %#x → %#x, %v; want %#x", len(loads), uint64(sym), pa, err, uint64(sym-voff))
		}
		if pa, err := tr.Translate(0xffff000000200000); err != nil || pa != 0x40200000 {
			t.Errorf("%d loads: linear → %#x, %v", len(loads), pa, err)
		}
	}
}

// TestARM64Frames: PAC bits are stripped with VMCOREINFO's mask (set for
// kernel addresses, cleared for user ones), the call site is 4 bytes
// before, a sleeping task's registers come from thread.cpu_context in
// cpu_switch_to's order, and pt_regs comes from DWARF when the vmlinux has
// it.
func TestARM64Frames(t *testing.T) {
	info, _ := vmcoreinfo.Parse([]byte("NUMBER(KERNELPACMASK)=0xff7f000000000000\n"))
	a := arm64{}.forInfo(info).(arm64)
	if got := a.CodeAddr(0x12b4800080012340); got != 0xffff800080012340 {
		t.Errorf("CodeAddr(signed kernel lr) = %#x", got)
	}
	if got := a.CodeAddr(0x0012aaaab0001000); got != 0x0000aaaab0001000 {
		t.Errorf("CodeAddr(signed user lr) = %#x", got)
	}
	if got := a.CallSite(0x12b4800080012340); got != 0xffff80008001233c {
		t.Errorf("CallSite = %#x", got)
	}
	if got := (arm64{}).CodeAddr(0xffff800080012340); got != 0xffff800080012340 {
		t.Errorf("no PAC: CodeAddr changed %#x", got)
	}
	sw := a.SwitchFrame()
	set := a.Registers()
	if sw.Member != "thread.cpu_context" || len(sw.Regs) != 13 || sw.Regs[0] != 19 || sw.Regs[10] != set.FP || sw.Regs[11] != set.SP || sw.Regs[12] != set.PC {
		t.Errorf("SwitchFrame = %+v", sw)
	}
	if r := a.PtRegsRecord(); r.Offset != 304 || r.Size != 336 || r.TypeOffset != 0 {
		t.Errorf("6.12 default pt_regs record %+v", r)
	}
	if got := a.UserRegs(0xffff800082a8c000, 16384); got != 0xffff800082a8c000+16384-336 {
		t.Errorf("UserRegs = %#x", got)
	}
	// 6.13's struct frame_record_meta: stackframe grows a type word.
	l613 := layout{sizes: map[string]int64{"struct pt_regs": 344}, offs: map[string]int64{"struct pt_regs.stackframe": 304, "struct pt_regs.stackframe.type": 320}}
	if r := a.WithLayout(l613).(ExceptionRecords).PtRegsRecord(); r.Size != 344 || r.Offset != 304 || r.TypeOffset != 320 {
		t.Errorf("6.13 layout: %+v", r)
	}
	bad := layout{sizes: map[string]int64{"struct pt_regs": 100}, offs: map[string]int64{"struct pt_regs.stackframe": 96}}
	if r := a.WithLayout(bad).(ExceptionRecords).PtRegsRecord(); r.Size != 336 {
		t.Errorf("a pt_regs too small for the registers was taken: %+v", r)
	}
	if a.CrashStopFunc() != "crash_save_cpu" {
		t.Errorf("CrashStopFunc = %q", a.CrashStopFunc())
	}
	for fn, want := range map[string]bool{"el1h_64_irq": true, "el1h_64_sync": true, "el0t_64_sync": true, "el0t_32_irq": true, "el1h_64_irq_handler": false, "el1_interrupt": false} {
		if a.ExceptionFrame(fn) != want {
			t.Errorf("ExceptionFrame(%s) = %v", fn, !want)
		}
	}
}

type layout struct {
	sizes map[string]int64
	offs  map[string]int64
}

func (l layout) Size(typ string) (int64, error) {
	if n, ok := l.sizes[typ]; ok {
		return n, nil
	}
	return 0, errors.New("no such type")
}

func (l layout) Offset(typ, path string) (int64, error) {
	if n, ok := l.offs[typ+"."+path]; ok {
		return n, nil
	}
	return 0, errors.New("no such member")
}

// TestARM64ShowRegs prints an EL1 exception frame as crash's arm64 bt
// does, symbols from the callback, and an EL0 one with pstate up front.
func TestARM64ShowRegs(t *testing.T) {
	r := make([]uint64, 34)
	for i := range 31 {
		r[i] = uint64(i)
	}
	r[29], r[30], r[31], r[32], r[33] = 0xffff800082003e00, 0xffff800080a1b2c0, 0xffff800082003e00, 0xffff800080a1b2c4, 0x60000005
	name := func(addr uint64) string {
		if addr>>48 == 0xffff {
			return fmt.Sprintf("default_idle_call+%d", addr-0xffff800080a1b290)
		}
		return ""
	}
	got := strings.Join(arm64{}.ShowRegs(r, name), "\n")
	want := ` PC: ffff800080a1b2c4  [default_idle_call+52]
 LR: ffff800080a1b2c0  [default_idle_call+48]
 SP: ffff800082003e00  PSTATE: 60000005
X29: ffff800082003e00  X28: 000000000000001c  X27: 000000000000001b
X26: 000000000000001a  X25: 0000000000000019  X24: 0000000000000018
X23: 0000000000000017  X22: 0000000000000016  X21: 0000000000000015
X20: 0000000000000014  X19: 0000000000000013  X18: 0000000000000012
X17: 0000000000000011  X16: 0000000000000010  X15: 000000000000000f
X14: 000000000000000e  X13: 000000000000000d  X12: 000000000000000c
X11: 000000000000000b  X10: 000000000000000a   X9: 0000000000000009
 X8: 0000000000000008   X7: 0000000000000007   X6: 0000000000000006
 X5: 0000000000000005   X4: 0000000000000004   X3: 0000000000000003
 X2: 0000000000000002   X1: 0000000000000001   X0: 0000000000000000`
	if got != want {
		t.Errorf("EL1 frame:\n%s\nwant\n%s", got, want)
	}
	r[32], r[30], r[31], r[33] = 0x0000aaaab0001000, 0x0000aaaab0000ff0, 0x0000ffffc0001000, 0x80000000
	lines := arm64{}.ShowRegs(r, name)
	if lines[0] != " PC: 0000aaaab0001000   LR: 0000aaaab0000ff0   SP: 0000ffffc0001000  PSTATE: 80000000" || len(lines) != 11 {
		t.Errorf("EL0 frame: %q", lines)
	}
	r[32] = 0xffff000000000000 // no symbol
	if l := (arm64{}).ShowRegs(append(r[:33:33], 0x5), func(uint64) string { return "" })[0]; !strings.HasSuffix(l, "[unknown or invalid address]") {
		t.Errorf("unnamed pc: %q", l)
	}
}
