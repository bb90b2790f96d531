package types

import (
	"debug/dwarf"
	"fmt"
	"sort"
)

// die is the part of a debugging information entry the member resolver
// reads, decoded straight from .debug_info by the scanner so that member
// questions need neither debug/dwarf's per-unit abbreviation maps (55 MB
// for a kernel) nor its type graphs.
type die struct {
	off, next, sibling dwarf.Offset // next: first child, or following DIE
	tag                dwarf.Tag
	children           bool
	name               string
	typ                dwarf.Offset
	hasType            bool
	byteSize           int64
	hasByteSize        bool
	memberLoc          int64
	bitSize            int64
	bitOffset          int64
	hasBitOffset       bool
	dataBitOffset      int64
	hasDataBitOffset   bool
	count, upper       int64
	hasCount, hasUpper bool
}

type unitHdr struct {
	start, end, dies  int
	version           uint64
	offSize, addrSize int
	abbrevOff         uint64
	compile           bool
}

// unitsThrough lists unit headers in order until one ends past off (or
// the section ends), reading each header once (one small read each), and
// returns the units listed so far: a question about the first units of a
// 100 MB .debug_info reads no others.
func (s *sections) unitsThrough(off int) ([]unitHdr, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.listed < s.infoLen && (len(s.units) == 0 || s.units[len(s.units)-1].end <= off) {
		u, err := s.header(s.listed)
		if err != nil {
			return nil, err
		}
		s.units = append(s.units, u)
		s.listed = u.end
	}
	return s.units, nil
}

// unitList lists every unit header.
func (s *sections) unitList() ([]unitHdr, error) { return s.unitsThrough(s.infoLen) }

func (s *sections) unitOf(off dwarf.Offset) (unitHdr, error) {
	us, err := s.unitsThrough(int(off))
	if err != nil {
		return unitHdr{}, err
	}
	i := sort.Search(len(us), func(i int) bool { return us[i].end > int(off) })
	if i == len(us) || int(off) < us[i].dies {
		return unitHdr{}, fmt.Errorf("DIE offset %#x is in no unit", off)
	}
	return us[i], nil
}

// readDIE decodes the entry at off; a null entry (end of siblings) has tag 0.
func (s *scanner) readDIE(off dwarf.Offset) (die, error) {
	u, err := s.unitOf(off)
	if err != nil {
		return die{}, err
	}
	table, err := s.abbrevTable(u.abbrevOff)
	if err != nil {
		return die{}, err
	}
	data, err := s.unitBytes(u, false)
	if err != nil {
		return die{}, err
	}
	c := cursor{b: data, off: int(off) - u.start}
	d := die{off: off}
	code := c.uleb()
	if c.err != nil {
		return die{}, c.err
	}
	if code == 0 {
		d.next = dwarf.Offset(u.start + c.off)
		return d, nil
	}
	if code >= uint64(len(table)) || table[code].tag == 0 {
		return die{}, fmt.Errorf("DIE at %#x: abbrev code %d unknown", off, code)
	}
	ab := table[code]
	d.tag, d.children = ab.tag, ab.children
	for _, a := range ab.attrs {
		v, b, err := s.attrValue(&c, uint64(a.form), u.offSize, u.addrSize, u.version)
		if err != nil {
			return die{}, fmt.Errorf("DIE at %#x: %w", off, err)
		}
		if a.form == formImplicitConst {
			v = uint64(a.implicit)
		}
		if err := s.noteFull(&d, a, v, b, u); err != nil {
			return die{}, fmt.Errorf("DIE at %#x: %w", off, err)
		}
	}
	d.next = dwarf.Offset(u.start + c.off)
	return d, nil
}

func (s *scanner) noteFull(d *die, a abbrevAttr, v uint64, b []byte, u unitHdr) error {
	ref := func() dwarf.Offset {
		if a.form == formRefAddr {
			return dwarf.Offset(v)
		}
		return dwarf.Offset(u.start + int(v))
	}
	switch a.attr {
	case dwarf.AttrName:
		var di dieInfo
		if err := di.note(s, a, v, b, u.start); err != nil {
			return err
		}
		d.name = string(di.name)
	case dwarf.AttrType:
		d.typ, d.hasType = ref(), true
	case dwarf.AttrSibling:
		d.sibling = ref()
	case dwarf.AttrByteSize:
		d.byteSize, d.hasByteSize = int64(v), true
	case dwarf.AttrDataMemberLoc:
		if b != nil {
			d.memberLoc = memberLocation(&dwarf.Entry{Field: []dwarf.Field{{Attr: dwarf.AttrDataMemberLoc, Val: b}}})
		} else {
			d.memberLoc = int64(v)
		}
	case dwarf.AttrBitSize:
		d.bitSize = int64(v)
	case dwarf.AttrBitOffset:
		d.bitOffset, d.hasBitOffset = int64(v), true
	case dwarf.AttrDataBitOffset:
		d.dataBitOffset, d.hasDataBitOffset = int64(v), true
	case dwarf.AttrCount:
		d.count, d.hasCount = int64(v), true
	case dwarf.AttrUpperBound:
		d.upper, d.hasUpper = int64(v), true
	}
	return nil
}

// childrenOf returns the direct children of d.
func (s *scanner) childrenOf(d die) ([]die, error) {
	if !d.children {
		return nil, nil
	}
	var out []die
	cur := d.next
	for n := 0; n < 1<<16; n++ {
		c, err := s.readDIE(cur)
		if err != nil {
			return nil, err
		}
		if c.tag == 0 {
			return out, nil
		}
		out = append(out, c)
		if cur, err = s.after(c); err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("DIE at %#x: too many children", d.off)
}

// after returns the offset of the sibling following d, skipping its subtree.
func (s *scanner) after(d die) (dwarf.Offset, error) {
	if !d.children {
		return d.next, nil
	}
	if d.sibling > d.off {
		return d.sibling, nil
	}
	cur, depth := d.next, 1
	for depth > 0 {
		c, err := s.readDIE(cur)
		if err != nil {
			return 0, err
		}
		switch {
		case c.tag == 0:
			depth--
			cur = c.next
		case c.children && c.sibling > c.off:
			cur = c.sibling
		case c.children:
			depth++
			cur = c.next
		default:
			cur = c.next
		}
	}
	return cur, nil
}
