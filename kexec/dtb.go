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
	chosen.UpdateProperty("linux,usable-memory-range", append(cellBytes(e.UsableMemory.Start, ac), cellBytes(e.UsableMemory.Size(), sc)...))
	var out bytes.Buffer
	if _, err := fdt.Write(&out); err != nil {
		return nil, fmt.Errorf("device tree: writing: %w", err)
	}
	return out.Bytes(), nil
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
