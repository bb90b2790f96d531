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
}

// FieldOf resolves typeName ("struct task_struct", a typedef or a tag) and
// a member path ("thread_info.cpu_context.sp", "rss_stat.count[1]").
func (t *Types) FieldOf(typeName, path string) (Field, error) {
	if t == nil {
		return Field{}, ErrNoDWARF
	}
	key := typeName + "\x00" + path
	t.fields.mu.Lock()
	f, ok := t.fields.m[key]
	t.fields.mu.Unlock()
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
	t.fields.mu.Lock()
	if t.fields.m == nil {
		t.fields.m = map[string]Field{}
	}
	t.fields.m[key] = f
	t.fields.mu.Unlock()
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

func (t *Types) entry(off dwarf.Offset) (*dwarf.Entry, *dwarf.Reader, error) {
	r := t.data.Reader()
	r.Seek(off)
	e, err := r.Next()
	if err != nil {
		return nil, nil, fmt.Errorf("DIE at %#x: %w", off, err)
	}
	if e == nil {
		return nil, nil, fmt.Errorf("DIE at %#x: missing", off)
	}
	return e, r, nil
}

// strip follows typedefs and qualifiers to the DIE that has a layout.
func (t *Types) strip(off dwarf.Offset) (*dwarf.Entry, *dwarf.Reader, error) {
	for i := 0; i < 32; i++ {
		e, r, err := t.entry(off)
		if err != nil {
			return nil, nil, err
		}
		switch e.Tag {
		case dwarf.TagTypedef, dwarf.TagConstType, dwarf.TagVolatileType, dwarf.TagRestrictType, dwarf.TagAtomicType:
			next, ok := e.Val(dwarf.AttrType).(dwarf.Offset)
			if !ok {
				return e, r, nil // typedef of void
			}
			off = next
		default:
			return e, r, nil
		}
	}
	return nil, nil, fmt.Errorf("typedef chain at %#x too long", off)
}

// sizeOf is the byte size of the type at off.
func (t *Types) sizeOf(off dwarf.Offset) (int64, error) {
	e, r, err := t.strip(off)
	if err != nil {
		return 0, err
	}
	if n, ok := e.Val(dwarf.AttrByteSize).(int64); ok {
		return n, nil
	}
	if e.Tag == dwarf.TagArrayType {
		elem, _ := e.Val(dwarf.AttrType).(dwarf.Offset)
		es, err := t.sizeOf(elem)
		if err != nil {
			return 0, err
		}
		n := int64(1)
		for _, c := range arrayDims(e, r) {
			n *= c
		}
		return n * es, nil
	}
	if e.Tag == dwarf.TagPointerType {
		return int64(t.data.Reader().AddressSize()), nil
	}
	return 0, fmt.Errorf("type at %#x (%v) has no size", off, e.Tag)
}

// arrayDims reads the subrange children of an array DIE.
func arrayDims(e *dwarf.Entry, r *dwarf.Reader) []int64 {
	var dims []int64
	if !e.Children {
		return nil
	}
	for {
		c, err := r.Next()
		if err != nil || c == nil || c.Tag == 0 {
			return dims
		}
		if c.Tag != dwarf.TagSubrangeType {
			if c.Children {
				r.SkipChildren()
			}
			continue
		}
		switch {
		case c.Val(dwarf.AttrCount) != nil:
			n, _ := c.Val(dwarf.AttrCount).(int64)
			dims = append(dims, n)
		case c.Val(dwarf.AttrUpperBound) != nil:
			n, _ := c.Val(dwarf.AttrUpperBound).(int64)
			dims = append(dims, n+1)
		default:
			dims = append(dims, 0) // flexible array
		}
	}
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
			e, _, err := t.strip(f.Type)
			if err != nil {
				return Field{}, err
			}
			if e.Tag != dwarf.TagArrayType {
				return Field{}, fmt.Errorf("%s is not an array", name)
			}
			elem, _ := e.Val(dwarf.AttrType).(dwarf.Offset)
			es, err := t.sizeOf(elem)
			if err != nil {
				return Field{}, err
			}
			f = Field{Offset: f.Offset + i*es, Type: elem, Size: es}
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
	e, r, err := t.strip(off)
	if err != nil {
		return Field{}, false, err
	}
	if e.Tag != dwarf.TagStructType && e.Tag != dwarf.TagUnionType {
		return Field{}, false, fmt.Errorf("member %q of a %v", name, e.Tag)
	}
	var anon []Field
	for e.Children {
		c, err := r.Next()
		if err != nil {
			return Field{}, false, err
		}
		if c == nil || c.Tag == 0 {
			break
		}
		if c.Children {
			r.SkipChildren()
		}
		if c.Tag != dwarf.TagMember {
			continue
		}
		f := Field{Offset: memberLocation(c)}
		f.Type, _ = c.Val(dwarf.AttrType).(dwarf.Offset)
		cname, _ := c.Val(dwarf.AttrName).(string)
		if cname == "" {
			anon = append(anon, f)
			continue
		}
		if cname != name {
			continue
		}
		if bs, ok := c.Val(dwarf.AttrBitSize).(int64); ok {
			f.BitSize = bs
			f.Size, _ = t.sizeOf(f.Type)
			if dbo, ok := c.Val(dwarf.AttrDataBitOffset).(int64); ok {
				f.Offset, f.BitOffset = dbo/8/f.Size*f.Size, dbo-dbo/8/f.Size*f.Size*8
			} else if bo, ok := c.Val(dwarf.AttrBitOffset).(int64); ok {
				storage := f.Size
				if s, ok := c.Val(dwarf.AttrByteSize).(int64); ok {
					storage = s
				}
				f.BitOffset = storage*8 - bo - bs // DWARF 2/3 counts from the MSB
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
