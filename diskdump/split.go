package diskdump

import (
	"fmt"
	"io"
	"sort"
)

// Join writes the parts of a split dump (makedumpfile --split) as one
// dump through out, as makedumpfile --reassemble does: the headers, notes
// and RAM bitmap of the first part, each pfn's dumped bit and page from
// the part that holds it, pages copied in their stored form.
func Join(out io.WriterAt, parts []*File) (*Writer, error) {
	if len(parts) == 0 {
		return nil, fmt.Errorf("no split parts to join")
	}
	ps := append([]*File(nil), parts...)
	sort.Slice(ps, func(i, j int) bool { return ps[i].splitStart < ps[j].splitStart })
	first := ps[0]
	for k, p := range ps {
		switch {
		case p.Sub.Split == 0:
			return nil, fmt.Errorf("part %d is not a split part (its sub-header's split is 0)", k+1)
		case p.MaxMapnr != first.MaxMapnr || p.PFNOffset != first.PFNOffset || p.BlockSize() != first.BlockSize() ||
			p.Header.Utsname != first.Header.Utsname || p.Sub.DumpLevel != first.Sub.DumpLevel:
			return nil, fmt.Errorf("the split parts come from different dumps (max_mapnr, phys_base, block size, utsname or dump level differ)")
		case k > 0 && p.splitStart != ps[k-1].splitEnd:
			return nil, fmt.Errorf("split parts hold pfns %#x-%#x and %#x-%#x: want them back to back",
				ps[k-1].splitStart+first.PFNOffset, ps[k-1].splitEnd+first.PFNOffset, p.splitStart+first.PFNOffset, p.splitEnd+first.PFNOffset)
		case p.Incomplete():
			return nil, fmt.Errorf("split part %d is marked incomplete", k+1)
		}
	}
	if ps[0].splitStart != 0 || ps[len(ps)-1].splitEnd != first.MaxMapnr {
		return nil, fmt.Errorf("the split parts hold pfns %#x-%#x of %#x-%#x: a part is missing",
			ps[0].splitStart+first.PFNOffset, ps[len(ps)-1].splitEnd+first.PFNOffset, first.PFNOffset, first.PFNOffset+first.MaxMapnr)
	}
	dumped := NewBitmap(first.MaxMapnr)
	for _, p := range ps {
		for i, ok := p.Dumped.Next(p.splitStart); ok && i < p.splitEnd; i, ok = p.Dumped.Next(i + 1) {
			dumped.Set(i)
		}
	}
	w, err := NewWriter(out, Config{Layout: first.Layout, Utsname: first.Header.Utsname, Timestamp: first.Header.Timestamp,
		BlockSize: first.BlockSize(), PhysBase: first.Sub.PhysBase, DumpLevel: int(first.Sub.DumpLevel), MaxMapnr: first.MaxMapnr,
		NrCPUs: int(first.Header.NrCPUs), Notes: first.Notes, Compression: None}, first.Present, dumped)
	if err != nil {
		return nil, err
	}
	w.hdr.Status = first.Header.Status | StatusIncomplete // the parts' compression flags; Close clears incomplete
	for _, p := range ps {
		for i, ok := p.Dumped.Next(p.splitStart); ok && i < p.splitEnd; i, ok = p.Dumped.Next(i + 1) {
			d, raw, err := p.readStored(i)
			if err != nil {
				return w, err
			}
			if err := w.WriteStored(i, raw, d.Flags); err != nil {
				return w, err
			}
		}
	}
	return w, w.Close()
}
