package types

import (
	"bytes"
	"debug/dwarf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
)

// errSlowPath makes the index fall back to debug/dwarf's reader: the fast
// scanner handles the forms gcc and clang emit for DWARF 2–5 compile units
// but not, e.g., names in .debug_str_offsets (strx) or split units.
var errSlowPath = errors.New("DWARF construct left to debug/dwarf")

// sections is the raw DWARF every scanner reads: read-only bytes and the
// list of unit headers, discovered in order as far as a question needs.
type sections struct {
	infoR       io.ReaderAt // .debug_info, read a unit at a time
	infoLen     int
	abbrev, str []byte
	bo          binary.ByteOrder

	mu      sync.Mutex // guards the unit list, which grows as units are asked for, and abbrevs
	units   []unitHdr
	listed  int                      // offset of the first unit not yet in units
	abbrevs map[uint64][]abbrevEntry // the tables parsed so far, by offset
}

// scanner walks .debug_info decoding only the attributes the name index
// needs, skipping the rest by form size: the kernel's ~3 million top-level
// DIEs made debug/dwarf's full entry decoding (10 M allocations) the whole
// cost of the index. A scanner is used by one goroutine at a time; several
// share one sections.
type scanner struct {
	*sections
	buf     []byte       // the unit being indexed
	recent  [8]unitCache // units the member resolver read lately
	next    int
	abbrevs map[uint64][]abbrevEntry // by abbrev table offset, indexed by code
}

func newScanner(sec *sections) *scanner {
	return &scanner{sections: sec, abbrevs: map[uint64][]abbrevEntry{}}
}

type abbrevEntry struct {
	tag      dwarf.Tag
	children bool
	attrs    []abbrevAttr
}

// abbrevAttr is 16 bytes: a kernel's abbreviation tables hold millions
// of them, and the tables the first units name were a tenth of a cold
// run's time in allocation.
type abbrevAttr struct {
	attr     dwarf.Attr
	form     uint32
	implicit int64 // the value of a DW_FORM_implicit_const attribute
}

// DWARF forms by number (DWARF 5 §7.5.6).
const (
	formAddr, formBlock2, formBlock4, formData2, formData4, formData8 = 0x01, 0x03, 0x04, 0x05, 0x06, 0x07
	formString, formBlock, formBlock1, formData1, formFlag, formSdata = 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d
	formStrp, formUdata, formRefAddr, formRef1, formRef2, formRef4    = 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13
	formRef8, formRefUdata, formIndirect, formSecOffset, formExprloc  = 0x14, 0x15, 0x16, 0x17, 0x18
	formFlagPresent, formStrx, formAddrx, formRefSup4, formStrpSup    = 0x19, 0x1a, 0x1b, 0x1c, 0x1d
	formData16, formLineStrp, formRefSig8, formImplicitConst          = 0x1e, 0x1f, 0x20, 0x21
	formLoclistx, formRnglistx, formRefSup8                           = 0x22, 0x23, 0x24
	formStrx1, formStrx2, formStrx3, formStrx4                        = 0x25, 0x26, 0x27, 0x28
	formAddrx1, formAddrx2, formAddrx3, formAddrx4                    = 0x29, 0x2a, 0x2b, 0x2c
	formGNUAddrIndex, formGNUStrIndex, formGNURefAlt, formGNUStrpAlt  = 0x1f01, 0x1f02, 0x1f20, 0x1f21
)

type cursor struct {
	b   []byte
	off int
	err error
}

func (c *cursor) need(n int) bool {
	if c.err == nil && (n < 0 || c.off+n > len(c.b)) {
		c.err = fmt.Errorf("DWARF data truncated at offset %#x", c.off)
	}
	return c.err == nil
}

func (c *cursor) u8() uint64 {
	if !c.need(1) {
		return 0
	}
	c.off++
	return uint64(c.b[c.off-1])
}

func (c *cursor) fixed(n int, bo binary.ByteOrder) uint64 {
	if !c.need(n) {
		return 0
	}
	var v uint64
	switch n {
	case 1:
		v = uint64(c.b[c.off])
	case 2:
		v = uint64(bo.Uint16(c.b[c.off:]))
	case 4:
		v = uint64(bo.Uint32(c.b[c.off:]))
	case 8:
		v = bo.Uint64(c.b[c.off:])
	}
	c.off += n
	return v
}

func (c *cursor) uleb() uint64 {
	var v uint64
	for shift := uint(0); c.need(1); shift += 7 {
		b := c.b[c.off]
		c.off++
		if shift < 64 {
			v |= uint64(b&0x7f) << shift
		}
		if b&0x80 == 0 {
			break
		}
	}
	return v
}

func (c *cursor) sleb() int64 {
	var v int64
	var shift uint
	for c.need(1) {
		b := c.b[c.off]
		c.off++
		if shift < 64 {
			v |= int64(b&0x7f) << shift
		}
		shift += 7
		if b&0x80 == 0 {
			if shift < 64 && b&0x40 != 0 {
				v |= -1 << shift
			}
			break
		}
	}
	return v
}

func (c *cursor) skip(n int) {
	if c.need(n) {
		c.off += n
	}
}

func (c *cursor) cstring() []byte {
	i := bytes.IndexByte(c.b[min(c.off, len(c.b)):], 0)
	if i < 0 {
		c.err = fmt.Errorf("unterminated string at offset %#x", c.off)
		return nil
	}
	s := c.b[c.off : c.off+i]
	c.off += i + 1
	return s
}

// abbrevTable returns the abbreviation table at off, parsed once for all
// the scanners of a section (each unit names its table; the index, the
// member resolver and the parallel index runs meet the same ones).
func (s *scanner) abbrevTable(off uint64) ([]abbrevEntry, error) {
	if t, ok := s.abbrevs[off]; ok {
		return t, nil
	}
	s.sections.mu.Lock()
	t, ok := s.sections.abbrevs[off]
	s.sections.mu.Unlock()
	if !ok {
		var err error
		if t, err = parseAbbrevs(s.abbrev, off); err != nil {
			return nil, err
		}
		s.sections.mu.Lock()
		if s.sections.abbrevs == nil {
			s.sections.abbrevs = map[uint64][]abbrevEntry{}
		}
		s.sections.abbrevs[off] = t
		s.sections.mu.Unlock()
	}
	s.abbrevs[off] = t
	return t, nil
}

// parseAbbrevs reads one abbreviation table, indexed by code (codes are
// small and dense in practice). The attributes of all its entries share
// one slice: one allocation a table, not one an entry.
func parseAbbrevs(abbrev []byte, off uint64) ([]abbrevEntry, error) {
	if off >= uint64(len(abbrev)) {
		return nil, fmt.Errorf("abbrev offset %#x past .debug_abbrev", off)
	}
	c := cursor{b: abbrev, off: int(off)}
	t := make([]abbrevEntry, 0, 256)     // a kernel unit's table has a few hundred entries
	attrs := make([]abbrevAttr, 0, 1024) // and a few thousand attributes
	type span struct {
		code       uint64
		start, end int
	}
	var spans []span
	for {
		code := c.uleb()
		if code == 0 || c.err != nil {
			break
		}
		e := abbrevEntry{tag: dwarf.Tag(c.uleb()), children: c.u8() != 0}
		if e.tag == 0 {
			return nil, fmt.Errorf(".debug_abbrev at %#x: abbrev %d has tag 0", off, code)
		}
		start := len(attrs)
		for {
			a, f := c.uleb(), c.uleb()
			if c.err != nil || (a == 0 && f == 0) {
				break
			}
			var implicit int64
			if f == formImplicitConst {
				implicit = c.sleb() // the value lives here, not in the DIE
			}
			if f > 0xffff {
				return nil, fmt.Errorf(".debug_abbrev at %#x: form %#x: %w", off, f, errSlowPath)
			}
			attrs = append(attrs, abbrevAttr{dwarf.Attr(a), uint32(f), implicit})
		}
		if code > 1<<20 {
			return nil, fmt.Errorf(".debug_abbrev at %#x: abbrev code %d too large", off, code)
		}
		for uint64(len(t)) <= code {
			t = append(t, abbrevEntry{})
		}
		t[code] = e
		spans = append(spans, span{code, start, len(attrs)})
	}
	if c.err != nil {
		return nil, fmt.Errorf(".debug_abbrev at %#x: %w", off, c.err)
	}
	for _, sp := range spans { // attrs has stopped moving
		t[sp.code].attrs = attrs[sp.start:sp.end:sp.end]
	}
	return t, nil
}

// attrValue decodes one attribute value: an integer (constants, offsets,
// references) or a byte slice (inline strings, blocks). It never allocates.
func (s *scanner) attrValue(c *cursor, form uint64, offSize, addrSize int, version uint64) (uint64, []byte, error) {
	switch form {
	case formAddr:
		return c.fixed(addrSize, s.bo), nil, c.err
	case formData1, formRef1, formFlag, formStrx1, formAddrx1:
		return c.fixed(1, s.bo), nil, c.err
	case formData2, formRef2, formStrx2, formAddrx2:
		return c.fixed(2, s.bo), nil, c.err
	case formStrx3, formAddrx3:
		c.skip(3)
		return 0, nil, c.err
	case formData4, formRef4, formRefSup4, formStrx4, formAddrx4:
		return c.fixed(4, s.bo), nil, c.err
	case formData8, formRef8, formRefSig8, formRefSup8:
		return c.fixed(8, s.bo), nil, c.err
	case formData16:
		c.skip(16)
		return 0, nil, c.err
	case formSdata:
		return uint64(c.sleb()), nil, c.err
	case formUdata, formRefUdata, formStrx, formAddrx, formLoclistx, formRnglistx, formGNUAddrIndex, formGNUStrIndex:
		return c.uleb(), nil, c.err
	case formStrp, formSecOffset, formLineStrp, formStrpSup, formGNURefAlt, formGNUStrpAlt:
		return c.fixed(offSize, s.bo), nil, c.err
	case formRefAddr:
		if version <= 2 {
			return c.fixed(addrSize, s.bo), nil, c.err
		}
		return c.fixed(offSize, s.bo), nil, c.err
	case formString:
		return 0, c.cstring(), c.err
	case formBlock1, formBlock2, formBlock4, formBlock, formExprloc:
		var n uint64
		switch form {
		case formBlock1:
			n = c.fixed(1, s.bo)
		case formBlock2:
			n = c.fixed(2, s.bo)
		case formBlock4:
			n = c.fixed(4, s.bo)
		default:
			n = c.uleb()
		}
		if n > uint64(len(c.b)) {
			return 0, nil, fmt.Errorf("block of %d bytes at %#x", n, c.off)
		}
		start := c.off
		c.skip(int(n))
		return n, c.b[start:min(c.off, len(c.b))], c.err
	case formFlagPresent, formImplicitConst:
		return 1, nil, nil
	case formIndirect:
		return s.attrValue(c, c.uleb(), offSize, addrSize, version)
	}
	return 0, nil, fmt.Errorf("DWARF form %#x at %#x: %w", form, c.off, errSlowPath)
}

// header reads the unit header at off (DWARF 5 §7.5.1; 2–4 are a subset).
func (s *sections) header(off int) (unitHdr, error) {
	var b [24]byte
	n, err := s.infoR.ReadAt(b[:min(len(b), s.infoLen-off)], int64(off))
	if n < 11 {
		return unitHdr{}, fmt.Errorf("unit header at %#x: %d bytes: %v", off, n, err)
	}
	c := cursor{b: b[:n]}
	u := unitHdr{start: off, offSize: 4, compile: true}
	length := c.fixed(4, s.bo)
	if length == 0xffffffff {
		u.offSize, length = 8, c.fixed(8, s.bo)
	} else if length >= 0xfffffff0 {
		return unitHdr{}, fmt.Errorf("unit at %#x: reserved length %#x", off, length)
	}
	if c.err != nil || length > uint64(s.infoLen-off-c.off) {
		return unitHdr{}, fmt.Errorf("unit at %#x: length %#x runs past .debug_info", off, length)
	}
	u.end = off + c.off + int(length)
	u.version = c.fixed(2, s.bo)
	if u.version >= 5 {
		unitType := c.u8()
		u.addrSize = int(c.u8())
		u.abbrevOff = c.fixed(u.offSize, s.bo)
		u.compile = unitType == 1 || unitType == 3 // compile and partial units
	} else {
		u.abbrevOff = c.fixed(u.offSize, s.bo)
		u.addrSize = int(c.u8())
	}
	if c.err != nil || u.version < 2 || u.version > 5 {
		return unitHdr{}, fmt.Errorf("unit at %#x: version %d: %w", off, u.version, errSlowPath)
	}
	u.dies = off + c.off
	return u, nil
}

// unitBytes returns .debug_info[u.start:u.end], read with pread: a mapping
// would fault in (and count in RSS) whole read-around windows.
func (s *scanner) unitBytes(u unitHdr, reuse bool) ([]byte, error) {
	if !reuse {
		for _, c := range s.recent {
			if c.start == u.start && c.data != nil {
				return c.data, nil
			}
		}
	}
	var buf []byte
	if reuse && cap(s.buf) >= u.end-u.start {
		buf = s.buf[:u.end-u.start]
	} else {
		buf = make([]byte, u.end-u.start)
	}
	if _, err := s.infoR.ReadAt(buf, int64(u.start)); err != nil {
		return nil, fmt.Errorf("reading unit at %#x (%d bytes): %w", u.start, len(buf), err)
	}
	if reuse {
		s.buf = buf
	} else {
		s.recent[s.next] = unitCache{u.start, buf}
		s.next = (s.next + 1) % len(s.recent)
	}
	return buf, nil
}

type unitCache struct {
	start int
	data  []byte
}

// dieInfo is what the index keeps of a top-level DIE.
type dieInfo struct {
	name              []byte
	declaration, addr bool
	sibling           int
}

func (d *dieInfo) note(s *scanner, a abbrevAttr, v uint64, b []byte, unit int) error {
	switch a.attr {
	case dwarf.AttrName:
		switch a.form {
		case formString:
			d.name = b
		case formStrp:
			if v >= uint64(len(s.str)) {
				return fmt.Errorf("name at .debug_str %#x past its end", v)
			}
			c := cursor{b: s.str, off: int(v)}
			d.name = c.cstring()
		default:
			return fmt.Errorf("name in form %#x: %w", a.form, errSlowPath)
		}
	case dwarf.AttrDeclaration:
		d.declaration = v != 0
	case dwarf.AttrLocation, dwarf.AttrLowpc:
		d.addr = true
	case dwarf.AttrSibling:
		if a.form == formRefAddr {
			d.sibling = int(v)
		} else {
			d.sibling = unit + int(v)
		}
	}
	return nil
}
