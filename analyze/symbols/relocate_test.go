package symbols

import (
	"debug/elf"
	"testing"
)

// TestRelocate: a KASLR offset moves every symbol, by name and by
// address, and leaves the original table alone.
func TestRelocate(t *testing.T) {
	orig := New([]Symbol{
		{Name: "_text", Addr: 0xffff800008000000, Type: elf.STT_FUNC, Global: true},
		{Name: "panic", Addr: 0xffff800008010000, Size: 0x100, Type: elf.STT_FUNC, Global: true},
	})
	const off = 0x2a3c0000
	r := orig.Relocate(off)
	if a, err := r.Addr("panic"); err != nil || a != 0xffff800008010000+off {
		t.Errorf("relocated panic = %#x, %v", a, err)
	}
	if s, _, err := r.At(0xffff800008010040 + off); err != nil || s.Name != "panic" {
		t.Errorf("At(relocated panic+0x40) = %+v, %v", s, err)
	}
	if a, _ := orig.Addr("panic"); a != 0xffff800008010000 {
		t.Errorf("the original moved: %#x", a)
	}
}
