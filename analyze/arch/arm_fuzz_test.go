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
