package kexec

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/u-root/u-root/pkg/dt"
)

// DTBEdit is what the capture kernel must find in /chosen.
type DTBEdit struct {
	Bootargs     string
	Initrd       *Range // nil: no initrd
	ElfCoreHdr   Range
	UsableMemory Range // linux,usable-memory-range: the crash region
	// UsableLow is appended to linux,usable-memory-range when the
	// reservation has a low part (drivers/of/fdt.c reads the crash
	// region first, then adds the rest).
	UsableLow *Range
	// KASLRSeed and RNGSeed, when set, become /chosen's kaslr-seed (8
	// bytes) and rng-seed: arm64's early boot zeroes the kaslr-seed it
	// used in place and drops rng-seed, so /sys/firmware/fdt holds none,
	// and a capture kernel without a seed runs unrandomized. The kernel's
	// own kexec_file_load writes fresh ones (drivers/of/kexec.c, 6.12).
	KASLRSeed, RNGSeed []byte
}

// EditDTB rewrites a flattened device tree's /chosen for a crash kernel:
// bootargs, linux,initrd-start/-end, linux,elfcorehdr and
// linux,usable-memory-range, the last two in the root's #address-cells and
// #size-cells, as the kernel's early_init_dt_check_for_elfcorehdr reads
// them (drivers/of/fdt.c, 6.1).
func EditDTB(blob []byte, e DTBEdit) ([]byte, error) {
	fdt, err := dt.ReadFDT(bytes.NewReader(blob))
	if err != nil {
		return nil, fmt.Errorf("device tree: %w", err)
	}
	root := fdt.RootNode
	ac, sc := cells(root, "#address-cells", 2), cells(root, "#size-cells", 1)
	if ac < 1 || ac > 2 || sc < 1 || sc > 2 {
		return nil, fmt.Errorf("device tree: #address-cells %d / #size-cells %d: want 1 or 2", ac, sc)
	}
	if err := e.fits(ac, sc); err != nil {
		return nil, err
	}
	chosen, ok := root.LookupChildByName("chosen")
	if !ok {
		chosen = dt.NewNode("chosen")
		root.Children = append(root.Children, chosen)
	}
	chosen.Update(dt.PropertyString("bootargs", e.Bootargs))
	if e.Initrd != nil {
		chosen.UpdateProperty("linux,initrd-start", cellBytes(e.Initrd.Start, ac))
		chosen.UpdateProperty("linux,initrd-end", cellBytes(e.Initrd.End+1, ac))
	} else {
		chosen.RemoveProperty("linux,initrd-start")
		chosen.RemoveProperty("linux,initrd-end")
	}
	chosen.UpdateProperty("linux,elfcorehdr", append(cellBytes(e.ElfCoreHdr.Start, ac), cellBytes(e.ElfCoreHdr.Size(), sc)...))
	usable := append(cellBytes(e.UsableMemory.Start, ac), cellBytes(e.UsableMemory.Size(), sc)...)
	if e.UsableLow != nil {
		usable = append(append(usable, cellBytes(e.UsableLow.Start, ac)...), cellBytes(e.UsableLow.Size(), sc)...)
	}
	chosen.UpdateProperty("linux,usable-memory-range", usable)
	if e.KASLRSeed != nil {
		chosen.UpdateProperty("kaslr-seed", e.KASLRSeed)
	}
	if e.RNGSeed != nil {
		chosen.UpdateProperty("rng-seed", e.RNGSeed)
	}
	var out bytes.Buffer
	if _, err := fdt.Write(&out); err != nil {
		return nil, fmt.Errorf("device tree: writing: %w", err)
	}
	return out.Bytes(), nil
}

// fits refuses an address or size the root's cells cannot hold: one
// cell is 32 bits, and a truncated elfcorehdr address would send the
// capture kernel to the wrong memory.
func (e *DTBEdit) fits(ac, sc uint32) error {
	type v struct {
		name  string
		val   uint64
		cells uint32
	}
	vs := []v{{"linux,elfcorehdr address", e.ElfCoreHdr.Start, ac}, {"linux,elfcorehdr size", e.ElfCoreHdr.Size(), sc},
		{"linux,usable-memory-range address", e.UsableMemory.Start, ac}, {"linux,usable-memory-range size", e.UsableMemory.Size(), sc}}
	if e.Initrd != nil {
		vs = append(vs, v{"linux,initrd-end", e.Initrd.End + 1, ac})
	}
	if e.UsableLow != nil {
		vs = append(vs, v{"linux,usable-memory-range low address", e.UsableLow.Start, ac}, v{"linux,usable-memory-range low size", e.UsableLow.Size(), sc})
	}
	for _, x := range vs {
		if x.cells == 1 && x.val > 0xffffffff {
			return fmt.Errorf("device tree: %s %#x does not fit the root's one 32-bit cell", x.name, x.val)
		}
	}
	return nil
}

func cells(n *dt.Node, name string, def uint32) uint32 {
	if p, ok := n.LookProperty(name); ok {
		if v, err := p.AsU32(); err == nil {
			return v
		}
	}
	return def
}

func cellBytes(v uint64, n uint32) []byte {
	b := make([]byte, 4*n)
	if n == 1 {
		binary.BigEndian.PutUint32(b, uint32(v))
	} else {
		binary.BigEndian.PutUint64(b, v)
	}
	return b
}
