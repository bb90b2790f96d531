package arch

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kdumpkit/kdumpkit/analyze/dump"
	"github.com/kdumpkit/kdumpkit/analyze/vmcoreinfo"
)

// physRAM serves ReadPhys from r; anything outside it is not in the dump.
type physRAM struct{ *ram }

func (p physRAM) ReadPhys(b []byte, pa uint64) error {
	if pa < p.base || pa-p.base+uint64(len(b)) > uint64(len(p.b)) {
		return fmt.Errorf("%w: %#x", dump.ErrNotInDump, pa)
	}
	copy(b, p.b[pa-p.base:])
	return nil
}

// FuzzARMTranslate walks hostile ARM32 page tables (short and LPAE
// descriptors: whatever bytes the dump holds at swapper_pg_dir and after).
// A walk ends, without a panic; an error names the virtual address; a
// translation keeps the offset within the page (every mapping is at least
// 4 KiB) and the linear map translates by its fixed offset whatever the
// tables say.
func FuzzARMTranslate(f *testing.F) {
	for _, lpae := range []bool{false, true} {
		_, r := armCore(lpae)
		f.Add(r.b[0x4000:0x8000], uint32(0xe0801234), lpae)
		f.Add(r.b[0x4000:0x8000], uint32(0xf0000010), lpae)
	}
	f.Add([]byte{0xff, 0xff, 0xff, 0xff}, uint32(0x00000abc), false)
	f.Fuzz(func(t *testing.T, tables []byte, va32 uint32, lpae bool) {
		r := &ram{base: 0x60000000, b: make([]byte, 64<<10)}
		copy(r.b[0x4000:], tables) // swapper_pg_dir onwards
		info := "SYMBOL(swapper_pg_dir)=80004000\n"
		if lpae {
			info += "CONFIG_ARM_LPAE=y\n"
		}
		vi, err := vmcoreinfo.Parse([]byte(info))
		if err != nil {
			t.Fatal(err)
		}
		loads := []dump.Segment{{Paddr: 0x60000000, Vaddr: 0x80000000, Filesz: 64 << 10, Memsz: 64 << 10}}
		tr, err := arm{}.NewTranslator(physRAM{r}, vi, loads)
		if err != nil {
			t.Fatal(err)
		}
		va := uint64(va32)
		pa, err := tr.Translate(va)
		switch {
		case err != nil:
			if !strings.Contains(err.Error(), fmt.Sprintf("%#x", va)) {
				t.Fatalf("Translate(%#x): error %q does not name the address", va, err)
			}
		case va >= 0x80000000 && va < 0x80010000:
			if pa != va-0x80000000+0x60000000 {
				t.Fatalf("linear %#x → %#x", va, pa)
			}
		case pa&0xfff != va&0xfff:
			t.Fatalf("Translate(%#x) = %#x: offset in page changed", va, pa)
		}
	})
}

// FuzzARM64Translate walks hostile arm64 tables under any layout
// VMCOREINFO may claim (page size, VA_BITS, TCR_EL1_T1SZ): NewTranslator
// refuses what Linux never builds, a walk ends without a panic, an error
// names the virtual address, a translation keeps the offset within the
// page, and the linear map translates by its fixed offset.
func FuzzARM64Translate(f *testing.F) {
	f.Add([]byte{0x03, 0x10, 0xe0, 0x41}, uint64(0xffff800080001234), uint16(4096), uint8(48), uint8(16))
	f.Add([]byte{0x01, 0x00, 0x00, 0x40}, uint64(0xffffffc008000000), uint16(4096), uint8(39), uint8(0))
	f.Add([]byte{0x03, 0x30, 0x00, 0x50, 0, 0, 0xa, 0}, uint64(0xfff0800000000000), uint16(65535), uint8(52), uint8(16))
	f.Fuzz(func(t *testing.T, tables []byte, va uint64, pageSize uint16, vaBits, t1sz uint8) {
		ps := map[uint16]int{4096: 4096, 16384: 16384, 65535: 65536}[pageSize]
		if ps == 0 {
			ps = int(pageSize)
		}
		const voff = 0xffff800081e00000 - 0x41e00000
		m := sparse{}
		// swapper_pg_dir at PA 0x41e00000; the same bytes again at
		// every table address they may point to within 0x41e00000-0x41f00000.
		for off := uint64(0); off < 0x100000; off += 0x1000 {
			for i, b := range tables {
				if i >= 0x1000 {
					break
				}
				m.frame(0x41e00000 + off)[i] = b
			}
		}
		s := fmt.Sprintf("PAGESIZE=%d\nNUMBER(VA_BITS)=%d\nNUMBER(kimage_voffset)=0x%x\nSYMBOL(swapper_pg_dir)=ffff800081e00000\nNUMBER(PHYS_OFFSET)=0x40000000\n", ps, vaBits, uint64(voff))
		if t1sz != 0 {
			s += fmt.Sprintf("NUMBER(TCR_EL1_T1SZ)=%d\n", t1sz)
		}
		info, err := vmcoreinfo.Parse([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		ram := []dump.Segment{{Paddr: 0x40000000, Memsz: 1 << 30}}
		tr, err := arm64{}.NewTranslator(m, info, ram)
		if err != nil {
			return
		}
		pa, err := tr.Translate(va)
		pageOffset := -(uint64(1) << vaBits)
		switch {
		case err != nil:
			if !strings.Contains(err.Error(), fmt.Sprintf("%#x", va)) {
				t.Fatalf("Translate(%#x): error %q does not name the address", va, err)
			}
		case va >= pageOffset && va-pageOffset < 1<<30:
			if pa != va-pageOffset+0x40000000 {
				t.Fatalf("linear %#x → %#x", va, pa)
			}
		case pa&uint64(ps-1) != va&uint64(ps-1):
			t.Fatalf("Translate(%#x) = %#x: offset in the %d-byte page changed", va, pa, ps)
		}
	})
}
