package crashoracle

import (
	"debug/dwarf"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"os"

	"github.com/kdumpkit/kdumpkit/internal/copyfile"
)

// PidSizeFix writes a copy of vmlinux to dst whose DWARF gives struct pid
// the size crash 8.0.2 expects, in every unit that defines it (each
// compile unit has its own copy and gdb may take any), and returns the
// sizes before and after.
//
// Why: Debian's 6.1.172+ backports the flexible `struct upid numbers[]`
// of struct pid (upstream 6.5); crash 8.0.2 computes the PID hash layout
// from sizeof(struct pid) assuming numbers[1], walks the wrong memory and
// finds 2 tasks of 45 (fixed in crash 8.0.4). Adding one struct upid back
// to the struct's DW_AT_byte_size makes crash 8.0.2 read such a kernel
// right; nothing else in the file changes. On a kernel whose numbers[]
// has a length the copy is unchanged and before == after.
func PidSizeFix(vmlinux, dst string) (before, after int64, err error) {
	f, err := elf.Open(vmlinux)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	d, err := f.DWARF()
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %w", vmlinux, err)
	}
	pids, upidSize, flexible, err := findPids(d)
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %w", vmlinux, err)
	}
	before = pids[0].Val(dwarf.AttrByteSize).(int64)
	after = before
	if flexible {
		after = before + upidSize
	}
	info := f.Section(".debug_info")
	if info == nil || info.Type == elf.SHT_NOBITS {
		return 0, 0, fmt.Errorf("%s: no .debug_info", vmlinux)
	}
	if info.Flags&elf.SHF_COMPRESSED != 0 {
		return 0, 0, fmt.Errorf("%s: compressed .debug_info cannot be patched in place", vmlinux)
	}
	infoData, err := info.Data()
	if err != nil {
		return 0, 0, err
	}
	abbrev, err := f.Section(".debug_abbrev").Data()
	if err != nil {
		return 0, 0, err
	}
	if err := copyfile.Copy(vmlinux, dst); err != nil {
		return 0, 0, err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY, 0)
	if err != nil {
		return 0, 0, err
	}
	defer out.Close()
	for _, pid := range pids {
		at, width, err := byteSizeAt(infoData, abbrev, f.ByteOrder, pid.Offset)
		if err != nil {
			return 0, 0, fmt.Errorf("%s: struct pid at %#x: %w", vmlinux, pid.Offset, err)
		}
		if after >= 1<<(8*width) {
			return 0, 0, fmt.Errorf("%s: struct pid size %d does not fit its %d-byte DW_AT_byte_size", vmlinux, after, width)
		}
		b := make([]byte, 8)
		f.ByteOrder.PutUint64(b, uint64(after))
		if f.ByteOrder == binary.BigEndian {
			b = b[8-width:]
		}
		if _, err := out.WriteAt(b[:width], int64(info.Offset)+at); err != nil {
			return 0, 0, err
		}
	}
	return before, after, out.Close()
}

// findPids returns every complete struct pid DIE, the size of struct
// upid and whether numbers[] is a flexible array.
func findPids(d *dwarf.Data) (pids []*dwarf.Entry, upidSize int64, flexible bool, err error) {
	r := d.Reader()
	for {
		e, err := r.Next()
		if err != nil {
			return nil, 0, false, err
		}
		if e == nil {
			break
		}
		if e.Tag != dwarf.TagStructType || e.Val(dwarf.AttrName) != "pid" || e.Val(dwarf.AttrByteSize) == nil {
			continue
		}
		if len(pids) == 0 {
			t, err := d.Type(e.Offset)
			if err != nil {
				return nil, 0, false, err
			}
			st, ok := t.(*dwarf.StructType)
			if !ok || len(st.Field) == 0 {
				return nil, 0, false, fmt.Errorf("struct pid at %#x has no members", e.Offset)
			}
			last := st.Field[len(st.Field)-1]
			at, ok := last.Type.(*dwarf.ArrayType)
			if last.Name != "numbers" || !ok {
				return nil, 0, false, fmt.Errorf("struct pid does not end in an array numbers[]")
			}
			upidSize, flexible = at.Type.Size(), at.Count <= 0
		}
		pids = append(pids, e)
	}
	if len(pids) == 0 {
		return nil, 0, false, fmt.Errorf("no complete struct pid in the DWARF")
	}
	return pids, upidSize, flexible, nil
}

// byteSizeAt returns where, inside .debug_info, the DW_AT_byte_size value
// of the DIE at off is stored, and its width: the DIE's abbreviation is
// read from .debug_abbrev and the attributes before it are skipped.
func byteSizeAt(info, abbrevSec []byte, bo binary.ByteOrder, off dwarf.Offset) (int64, int, error) {
	abbrevOff, addrSize, offSize, err := unitOf(info, off, bo)
	if err != nil {
		return 0, 0, err
	}
	p := int(off)
	code, n := uleb(info[p:])
	p += n
	attrs, err := abbrevFor(abbrevSec[abbrevOff:], code)
	if err != nil {
		return 0, 0, err
	}
	for _, a := range attrs {
		w, err := formWidth(a.form, info[p:], addrSize, offSize)
		if err != nil {
			return 0, 0, fmt.Errorf("attribute %v: %w", a.attr, err)
		}
		if a.attr == dwarf.AttrByteSize {
			switch a.form {
			case formData1, formData2, formData4, formData8:
				return int64(p), w, nil
			}
			return 0, 0, fmt.Errorf("DW_AT_byte_size has form %#x, not a fixed-size constant", a.form)
		}
		p += w
	}
	return 0, 0, fmt.Errorf("no DW_AT_byte_size")
}

// unitOf finds the unit header holding off: its abbreviation offset, address size and offset size (4 or 8).
func unitOf(info []byte, off dwarf.Offset, bo binary.ByteOrder) (abbrev, addrSize, offSize int, err error) {
	for p := 0; p < len(info); {
		length := int(bo.Uint32(info[p:]))
		hdr, offSize := 4, 4
		if length == 0xffffffff {
			length, hdr, offSize = int(bo.Uint64(info[p+4:])), 12, 8
		}
		end := p + hdr + length
		if int(off) < end {
			q := p + hdr
			version := bo.Uint16(info[q:])
			q += 2
			if version >= 5 {
				addrSize = int(info[q+1]) // after unit_type
				q += 2
				abbrev = readOff(info[q:], offSize, bo)
			} else {
				abbrev = readOff(info[q:], offSize, bo)
				addrSize = int(info[q+offSize])
			}
			return abbrev, addrSize, offSize, nil
		}
		p = end
	}
	return 0, 0, 0, fmt.Errorf("offset %#x is past the last unit", off)
}

func readOff(b []byte, size int, bo binary.ByteOrder) int {
	if size == 8 {
		return int(bo.Uint64(b))
	}
	return int(bo.Uint32(b))
}

type attrForm struct {
	attr dwarf.Attr
	form uint64
}

// abbrevFor reads the abbreviation table until code and returns its
// attribute specifications.
func abbrevFor(tab []byte, code uint64) ([]attrForm, error) {
	p := 0
	for p < len(tab) {
		c, n := uleb(tab[p:])
		p += n
		if c == 0 {
			break
		}
		_, n = uleb(tab[p:]) // tag
		p += n + 1           // and the children byte
		var attrs []attrForm
		for {
			a, n := uleb(tab[p:])
			p += n
			f, n := uleb(tab[p:])
			p += n
			if a == 0 && f == 0 {
				break
			}
			if f == formImplicitConst {
				_, n = uleb(tab[p:]) // its value (sleb, same length rule)
				p += n
			}
			attrs = append(attrs, attrForm{dwarf.Attr(a), f})
		}
		if c == code {
			return attrs, nil
		}
	}
	return nil, fmt.Errorf("abbreviation %d not found", code)
}

// DWARF forms (DWARF 5, 7.5.6) that may precede DW_AT_byte_size in a
// structure type's DIE.
const (
	formAddr          = 0x01
	formData2         = 0x05
	formData4         = 0x06
	formData8         = 0x07
	formString        = 0x08
	formData1         = 0x0b
	formFlag          = 0x0c
	formSdata         = 0x0d
	formStrp          = 0x0e
	formUdata         = 0x0f
	formRef4          = 0x13
	formSecOffset     = 0x17
	formFlagPresent   = 0x19
	formStrx1         = 0x25
	formStrx2         = 0x26
	formStrx4         = 0x28
	formLineStrp      = 0x1f
	formImplicitConst = 0x21
	formStrx          = 0x1a
)

func formWidth(form uint64, b []byte, addrSize, offSize int) (int, error) {
	switch form {
	case formAddr:
		return addrSize, nil
	case formData1, formFlag, formStrx1:
		return 1, nil
	case formData2, formStrx2:
		return 2, nil
	case formData4, formRef4, formStrx4:
		return 4, nil
	case formData8:
		return 8, nil
	case formStrp, formLineStrp, formSecOffset:
		return offSize, nil
	case formFlagPresent, formImplicitConst:
		return 0, nil
	case formSdata, formUdata, formStrx:
		_, n := uleb(b)
		return n, nil
	case formString:
		for i, c := range b {
			if c == 0 {
				return i + 1, nil
			}
		}
		return 0, fmt.Errorf("unterminated string")
	}
	return 0, fmt.Errorf("form %#x not handled", form)
}

// uleb decodes an unsigned LEB128 number and returns it with its length.
func uleb(b []byte) (uint64, int) {
	var v uint64
	for i, c := range b {
		if i < 10 {
			v |= uint64(c&0x7f) << (7 * i)
		}
		if c&0x80 == 0 {
			return v, i + 1
		}
	}
	return v, len(b)
}
