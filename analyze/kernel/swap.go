package kernel

import "fmt"

// SwapArea is one active swap device or file.
type SwapArea struct {
	Addr        uint64 // the struct swap_info_struct
	Partition   bool
	Pages, Used uint64
	Prio        int
	File        string
}

// SwapAreas reads swap_info[0..nr_swapfiles) and keeps the areas in use
// (SWP_USED, include/linux/swap.h).
func (k *Kernel) SwapAreas() ([]SwapArea, error) {
	arr, err := k.symbol("swap_info")
	if err != nil {
		return nil, err
	}
	nsym, err := k.symbol("nr_swapfiles")
	if err != nil {
		return nil, err
	}
	n, err := k.ReadUint(nsym, 4)
	if err != nil {
		return nil, err
	}
	if n > 64 {
		return nil, fmt.Errorf("nr_swapfiles = %d: not plausible", n)
	}
	const swpUsed = 1
	var out []SwapArea
	for i := uint64(0); i < n; i++ {
		si, err := k.ReadPtr(arr + i*uint64(k.PtrSize))
		if err != nil || si == 0 {
			continue
		}
		flags, err := k.field(si, "struct swap_info_struct", "flags")
		if err != nil || flags&swpUsed == 0 {
			continue
		}
		a := SwapArea{Addr: si}
		a.Pages, _ = k.field(si, "struct swap_info_struct", "pages")
		a.Used, _ = k.field(si, "struct swap_info_struct", "inuse_pages")
		if p, err := k.field(si, "struct swap_info_struct", "prio"); err == nil {
			a.Prio = int(int16(p))
		}
		if f, err := k.field(si, "struct swap_info_struct", "swap_file"); err == nil && f != 0 {
			if off, err := k.off("struct file", "f_path"); err == nil {
				a.File = k.pathAt(f + uint64(off))
			}
			if inode, err := k.field(f, "struct file", "f_inode"); err == nil {
				a.Partition = k.inodeType(inode) == "BLK"
			}
		}
		out = append(out, a)
	}
	return out, nil
}
