package types

import (
	"debug/dwarf"
	"fmt"
	"strings"
	"sync"
)

// Field is a member located by reading DIEs directly, without building
// dwarf.Type graphs: resolving struct task_struct through debug/dwarf's
// Type() parses most of the kernel's types (0.3 s, 200 MB), while the
// kernel helpers only need offsets and sizes.
type Field struct {
	Offset    int64
	Size      int64 // byte size of the member's type (after typedefs)
	BitSize   int64
	BitOffset int64 // from the least significant bit of the storage at Offset
	Type      dwarf.Offset
}

type fieldCache struct {
	mu sync.Mutex
	m  map[string]Field
	// kids are the decoded children of the structs, unions and arrays
	// asked about: every member path of task_struct (a command asks for
	// dozens) walks the same 200 members.
	kids map[dwarf.Offset][]die
}

// FieldOf resolves typeName ("struct task_struct", a typedef or a tag) and
// a member path ("thread_info.cpu_context.sp", "rss_stat.count[1]").
func (t *Types) FieldOf(typeName, path string) (Field, error) {
	if t == nil {
		return Field{}, ErrNoDWARF
	}
	key := typeName + "\x00" + path
	t.fields.mu.Lock() // held throughout: the scanner's caches are not shared-safe
	defer t.fields.mu.Unlock()
	f, ok := t.fields.m[key]
	if ok {
		return f, nil
	}
	off, err := t.namedOffset(typeName)
	if err != nil {
		return Field{}, err
	}
	f, err = t.fieldAt(off, path)
	if err != nil {
		return Field{}, fmt.Errorf("%s.%s: %w", typeName, path, err)
	}
	if t.fields.m == nil {
		t.fields.m = map[string]Field{}
	}
	t.fields.m[key] = f
	return f, nil
}

// namedOffset finds the DIE of a type name the way Named does.
func (t *Types) namedOffset(name string) (dwarf.Offset, error) {
	name = strings.TrimSpace(name)
	for prefix, kind := range map[string]Kind{"struct ": KindStruct, "union ": KindUnion, "enum ": KindEnum} {
		if rest, ok := strings.CutPrefix(name, prefix); ok {
			return t.Lookup(kind, strings.TrimSpace(rest))
		}
	}
	for _, kind := range []Kind{KindTypedef, KindBase, KindStruct, KindUnion, KindEnum} {
		if off, err := t.Lookup(kind, name); err == nil {
			return off, nil
		}
	}
	return 0, fmt.Errorf("type %q: %w", name, ErrNotFound)
}

// readDIE reads one entry with the raw scanner, or through debug/dwarf for
// Types built by New.
func (t *Types) readDIE(off dwarf.Offset) (die, error) {
	if t.scan != nil {
		return t.scan.readDIE(off)
	}
	d, err := t.dwarfData()
	if err != nil {
		return die{}, err
	}
	r := d.Reader()
	r.Seek(off)
	e, err := r.Next()
	if err != nil || e == nil {
		return die{}, fmt.Errorf("DIE at %#x: %v", off, err)
	}
	return dieFromEntry(e), nil
}

func (t *Types) childrenOf(d die) ([]die, error) {
	if t.scan != nil {
		if kids, ok := t.fields.kids[d.off]; ok {
			return kids, nil
		}
		kids, err := t.scan.childrenOf(d)
		if err != nil {
			return nil, err
		}
		if t.fields.kids == nil {
			t.fields.kids = map[dwarf.Offset][]die{}
		}
		t.fields.kids[d.off] = kids
		return kids, nil
	}
	data, err := t.dwarfData()
	if err != nil {
		return nil, err
	}
	r := data.Reader()
	r.Seek(d.off)
	if _, err := r.Next(); err != nil || !d.children {
		return nil, err
	}
	var out []die
	for {
		e, err := r.Next()
		if err != nil || e == nil || e.Tag == 0 {
			return out, err
		}
		if e.Children {
			r.SkipChildren()
		}
		out = append(out, dieFromEntry(e))
	}
}

func dieFromEntry(e *dwarf.Entry) die {
	d := die{off: e.Offset, tag: e.Tag, children: e.Children}
	d.name, _ = e.Val(dwarf.AttrName).(string)
	d.typ, d.hasType = e.Val(dwarf.AttrType).(dwarf.Offset)
	d.byteSize, d.hasByteSize = e.Val(dwarf.AttrByteSize).(int64)
	d.memberLoc = memberLocation(e)
	d.bitSize, _ = e.Val(dwarf.AttrBitSize).(int64)
	d.bitOffset, d.hasBitOffset = e.Val(dwarf.AttrBitOffset).(int64)
	d.dataBitOffset, d.hasDataBitOffset = e.Val(dwarf.AttrDataBitOffset).(int64)
	d.count, d.hasCount = e.Val(dwarf.AttrCount).(int64)
	d.upper, d.hasUpper = e.Val(dwarf.AttrUpperBound).(int64)
	return d
}

// strip follows typedefs and qualifiers to the DIE that has a layout.
func (t *Types) strip(off dwarf.Offset) (die, error) {
	for i := 0; i < 32; i++ {
		d, err := t.readDIE(off)
		if err != nil {
			return die{}, err
		}
		switch d.tag {
		case dwarf.TagTypedef, dwarf.TagConstType, dwarf.TagVolatileType, dwarf.TagRestrictType, dwarf.TagAtomicType:
			if !d.hasType {
				return d, nil // typedef of void
			}
			off = d.typ
		default:
			return d, nil
		}
	}
	return die{}, fmt.Errorf("typedef chain at %#x too long", off)
}

// sizeOf is the byte size of the type at off.
func (t *Types) sizeOf(off dwarf.Offset) (int64, error) { return t.sizeAt(off, 0) }

func (t *Types) sizeAt(off dwarf.Offset, depth int) (int64, error) {
	if depth > 16 { // arrays of arrays; a cycle in corrupt DWARF ends here
		return 0, fmt.Errorf("type at %#x nests too deep", off)
	}
	d, err := t.strip(off)
	if err != nil {
		return 0, err
	}
	if d.hasByteSize {
		return d.byteSize, nil
	}
	switch d.tag {
	case dwarf.TagArrayType:
		es, err := t.sizeAt(d.typ, depth+1)
		if err != nil {
			return 0, err
		}
		dims, err := t.arrayDims(d)
		if err != nil {
			return 0, err
		}
		n := int64(1)
		for _, c := range dims {
			n *= c
		}
		return n * es, nil
	case dwarf.TagPointerType:
		return int64(t.addrSize()), nil
	}
	return 0, fmt.Errorf("type at %#x (%v) has no size", off, d.tag)
}

func (t *Types) addrSize() int {
	if t.scan != nil {
		if us, err := t.scan.unitsThrough(0); err == nil && len(us) > 0 {
			return us[0].addrSize
		}
	}
	if d, err := t.dwarfData(); err == nil {
		return d.Reader().AddressSize()
	}
	return 4
}

// arrayDims reads the subrange children of an array DIE.
func (t *Types) arrayDims(d die) ([]int64, error) {
	kids, err := t.childrenOf(d)
	if err != nil {
		return nil, err
	}
	var dims []int64
	for _, c := range kids {
		if c.tag != dwarf.TagSubrangeType {
			continue
		}
		switch {
		case c.hasCount:
			dims = append(dims, c.count)
		case c.hasUpper && c.upper >= 0:
			dims = append(dims, c.upper+1)
		default:
			dims = append(dims, 0) // flexible array
		}
	}
	return dims, nil
}

func (t *Types) fieldAt(typeOff dwarf.Offset, path string) (Field, error) {
	f := Field{Type: typeOff}
	for _, part := range strings.Split(path, ".") {
		name, idx, err := splitIndex(part)
		if err != nil {
			return Field{}, err
		}
		m, ok, err := t.findMember(f.Type, name, 0)
		if err != nil {
			return Field{}, err
		}
		if !ok {
			return Field{}, fmt.Errorf("member %q: %w", name, ErrNotFound)
		}
		m.Offset += f.Offset
		f = m
		for _, i := range idx {
			d, err := t.strip(f.Type)
			if err != nil {
				return Field{}, err
			}
			if d.tag != dwarf.TagArrayType {
				return Field{}, fmt.Errorf("%s is not an array", name)
			}
			dims, err := t.arrayDims(d)
			if err != nil {
				return Field{}, err
			}
			count := int64(0)
			if len(dims) > 0 {
				count = dims[0]
			}
			if err := checkIndex(name, i, count); err != nil {
				return Field{}, err
			}
			es, err := t.sizeOf(d.typ)
			if err != nil {
				return Field{}, err
			}
			f = Field{Offset: f.Offset + i*es, Type: d.typ, Size: es}
		}
	}
	if f.Size == 0 {
		var err error
		if f.Size, err = t.sizeOf(f.Type); err != nil {
			return Field{}, err
		}
	}
	return f, nil
}

// findMember looks for name among the members of the struct or union at
// off, descending into anonymous members.
func (t *Types) findMember(off dwarf.Offset, name string, depth int) (Field, bool, error) {
	if depth > 8 {
		return Field{}, false, nil
	}
	d, err := t.strip(off)
	if err != nil {
		return Field{}, false, err
	}
	if d.tag != dwarf.TagStructType && d.tag != dwarf.TagUnionType {
		return Field{}, false, fmt.Errorf("member %q of a %v", name, d.tag)
	}
	kids, err := t.childrenOf(d)
	if err != nil {
		return Field{}, false, err
	}
	var anon []Field
	for _, c := range kids {
		if c.tag != dwarf.TagMember {
			continue
		}
		f := Field{Offset: c.memberLoc, Type: c.typ}
		if c.name == "" {
			anon = append(anon, f)
			continue
		}
		if c.name != name {
			continue
		}
		if c.bitSize > 0 {
			f.BitSize = c.bitSize
			f.Size, _ = t.sizeOf(f.Type)
			switch {
			case c.hasDataBitOffset && f.Size > 0:
				unit := c.dataBitOffset / 8 / f.Size * f.Size
				f.Offset, f.BitOffset = unit, c.dataBitOffset-unit*8
			case c.hasBitOffset:
				storage := f.Size
				if c.hasByteSize {
					storage = c.byteSize
				}
				f.BitOffset = storage*8 - c.bitOffset - c.bitSize // DWARF 2/3 count from the MSB
			}
		}
		return f, true, nil
	}
	for _, a := range anon {
		if m, ok, err := t.findMember(a.Type, name, depth+1); err == nil && ok {
			m.Offset += a.Offset
			return m, true, nil
		}
	}
	return Field{}, false, nil
}

// memberLocation reads DW_AT_data_member_location: a constant (DWARF 3+)
// or a DW_OP_plus_uconst expression (DWARF 2).
func memberLocation(e *dwarf.Entry) int64 {
	switch v := e.Val(dwarf.AttrDataMemberLoc).(type) {
	case int64:
		return v
	case []byte:
		if len(v) > 1 && v[0] == 0x23 { // DW_OP_plus_uconst
			var x int64
			for i, shift := 1, 0; i < len(v) && shift < 63; i, shift = i+1, shift+7 {
				x |= int64(v[i]&0x7f) << shift
				if v[i]&0x80 == 0 {
					break
				}
			}
			return x
		}
	}
	return 0
}

// VarField locates a member path inside a global variable's type, e.g.
// ("tk_core", "timekeeper.ktime_sec"), without debug/dwarf: variables of
// anonymous struct type have no type name to give FieldOf.
func (t *Types) VarField(name, path string) (Field, error) {
	if t == nil {
		return Field{}, ErrNoDWARF
	}
	off, err := t.Lookup(KindVariable, name)
	if err != nil {
		return Field{}, err
	}
	t.fields.mu.Lock()
	defer t.fields.mu.Unlock()
	d, err := t.readDIE(off)
	if err != nil {
		return Field{}, err
	}
	if !d.hasType {
		return Field{}, fmt.Errorf("variable %s has no type", name)
	}
	f, err := t.fieldAt(d.typ, path)
	if err != nil {
		return Field{}, fmt.Errorf("%s.%s: %w", name, path, err)
	}
	return f, nil
}
