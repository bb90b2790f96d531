package vmcoreinfo

import (
	"errors"
	"testing"
)

const sample = "OSRELEASE=6.1.192\nBUILD-ID=0123abcd\nPAGESIZE=4096\nSYMBOL(swapper_pg_dir)=80004000\n" +
	"OFFSET(printk_info.seq)=0\nSIZE(prb_desc)=12\nLENGTH(mem_section)=1\nNUMBER(PG_lru)=-4\n" +
	"KERNELOFFSET=0\nCONFIG_ARM_LPAE=y\nCRASHTIME=1795000000\n\x00\x00\x00"

func TestParse(t *testing.T) {
	i, err := Parse([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	if v, err := i.Symbol("swapper_pg_dir"); err != nil || v != 0x80004000 {
		t.Errorf("Symbol = %#x, %v", v, err)
	}
	if v, err := i.Size("prb_desc"); err != nil || v != 12 {
		t.Errorf("Size = %d, %v", v, err)
	}
	if v, err := i.Number("PG_lru"); err != nil || int64(v) != -4 {
		t.Errorf("Number = %d, %v", int64(v), err)
	}
	if !i.Config("ARM_LPAE") || i.Config("SMP") || i.OSRelease() != "6.1.192" || i.BuildID() != "0123abcd" || i.PageSize() != 4096 {
		t.Error("accessors")
	}
	if ct, err := i.CrashTime(); err != nil || ct != 1795000000 {
		t.Errorf("CrashTime = %d, %v", ct, err)
	}
	if _, err := i.Offset("printk_info", "ts_nsec"); !errors.Is(err, ErrMissing) || err.Error() != "OFFSET(printk_info.ts_nsec): not in VMCOREINFO" {
		t.Errorf("missing key: %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	for _, s := range []string{"", "\x00\x00", "no equals sign here\n"} {
		if _, err := Parse([]byte(s)); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
	i, _ := Parse([]byte("SYMBOL(x)=zz\n"))
	if _, err := i.Symbol("x"); err == nil || err.Error() != `VMCOREINFO SYMBOL(x)="zz": want a base-16 number` {
		t.Errorf("bad number: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(sample))
	f.Fuzz(func(t *testing.T, b []byte) {
		i, err := Parse(b)
		if err != nil {
			return
		}
		for k := range i.Map() {
			i.Get(k)
		}
		i.Symbol("swapper_pg_dir")
		i.PageSize()
	})
}

// TestArm64Numbers reads the layout values as an arm64 6.12 kernel writes
// them: kimage_voffset, PHYS_OFFSET and KERNELPACMASK in hex, VA_BITS in
// decimal.
func TestArm64Numbers(t *testing.T) {
	i, err := Parse([]byte("OSRELEASE=6.12.57\nNUMBER(VA_BITS)=48\nNUMBER(kimage_voffset)=0xffff7fffb7e00000\n" +
		"NUMBER(PHYS_OFFSET)=0x40000000\nKERNELOFFSET=2a5c00000\nNUMBER(KERNELPACMASK)=0xff7f000000000000\n"))
	if err != nil {
		t.Fatal(err)
	}
	va, err1 := i.VABits()
	voff, err2 := i.KimageVoffset()
	phys, err3 := i.PhysOffset()
	mask, ok := i.KernelPACMask()
	if err := errors.Join(err1, err2, err3); err != nil || va != 48 || voff != 0xffff7fffb7e00000 || phys != 0x40000000 ||
		!ok || mask != 0xff7f000000000000 || i.KernelOffset() != 0x2a5c00000 {
		t.Errorf("VA_BITS %d, kimage_voffset %#x, PHYS_OFFSET %#x, PAC mask %#x %v, KASLR %#x, err %v",
			va, voff, phys, mask, ok, i.KernelOffset(), err)
	}
	if _, ok := (&Info{m: map[string]string{}}).KernelPACMask(); ok {
		t.Error("a kernel without PAC has a PAC mask")
	}
}
