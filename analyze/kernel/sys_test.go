package kernel

import (
	"encoding/binary"
	"testing"

	"github.com/kdumpkit/kdumpkit/analyze/symbols"
)

// TestSysHelpers: utsname from VMCOREINFO's address alone, avenrun as
// /proc/loadavg prints it, and the panic line picked from the log.
func TestSysHelpers(t *testing.T) {
	mem := wordMem{}
	const uts = 0x1000
	put := func(addr uint64, s string) {
		b := make([]byte, (len(s)+4)&^3)
		copy(b, s)
		for i := 0; i < len(b); i += 4 {
			mem[addr+uint64(i)] = binary.LittleEndian.Uint32(b[i:])
		}
	}
	for i := uint64(0); i < 6*65+3; i += 4 {
		mem[uts+i] = 0
	}
	put(uts, "Linux")
	mem[0x2000], mem[0x2004], mem[0x2008] = 2048, 1024+10, 0 // FIXED_1 = 2048: 1.00, 0.50 (1044/2048 after rounding), 0.00
	syms := symbols.New([]symbols.Symbol{{Name: "avenrun", Addr: 0x2000, Size: 12}})
	k := New(mem, syms, nil, binary.LittleEndian, 4, nil)
	k.VMCOREINFO = map[string]string{"SYMBOL(init_uts_ns)": "1000", "OFFSET(uts_namespace.name)": "0", "OSRELEASE": "6.1.172"}
	u, err := k.UTSName()
	if err != nil || u.Sysname != "Linux" {
		t.Errorf("UTSName = %+v, %v", u, err)
	}
	if r := k.Release(u); r != "6.1.172" {
		t.Errorf("Release with an empty utsname release = %q, want OSRELEASE", r)
	}
	if la, err := k.LoadAverage(); err != nil || la != "1.00, 0.50, 0.00" {
		t.Errorf("LoadAverage = %q, %v", la, err)
	}
	if _, err := k.BootTime(); err == nil {
		t.Error("BootTime without DWARF succeeded")
	}
	if k.PageSize() != 4096 {
		t.Errorf("PageSize = %d", k.PageSize())
	}
	log := []string{"Unable to handle kernel NULL pointer", "Kernel panic - not syncing: sysrq triggered crash\n"}
	if m := PanicMessage(log); m != "sysrq triggered crash" {
		t.Errorf("PanicMessage = %q", m)
	}
	if m := PanicMessage(log[:1]); m != "Unable to handle kernel NULL pointer" {
		t.Errorf("PanicMessage(oops) = %q", m)
	}
}
