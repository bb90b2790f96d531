package types

import (
	"debug/dwarf"
	"fmt"
	"strconv"
	"strings"
)

// Strip removes typedefs and const/volatile qualifiers.
func Strip(t dwarf.Type) dwarf.Type {
	for i := 0; i < 64; i++ { // a cycle in corrupt DWARF must not hang us
		switch x := t.(type) {
		case *dwarf.TypedefType:
			t = x.Type
		case *dwarf.QualType:
			t = x.Type
		default:
			return t
		}
	}
	return t
}

// Member is a resolved member path: its byte offset from the start of the
// outer type and its type. BitSize is non-zero for bit fields, with
// BitOffset counted from the least significant bit of the storage unit at
// Offset (DWARF 4 data_bit_offset semantics, little-endian).
type Member struct {
	Offset    int64
	Type      dwarf.Type
	BitSize   int64
	BitOffset int64
}

// MemberOf resolves a member path such as "thread_info.cpu_context.sp",
// "tasks.next" or "comm[3]" inside t. Members of anonymous structs and
// unions are found as if they were direct members, as C allows.
func MemberOf(t dwarf.Type, path string) (Member, error) {
	m := Member{Type: t}
	for _, part := range strings.Split(path, ".") {
		name, idx, err := splitIndex(part)
		if err != nil {
			return Member{}, fmt.Errorf("member %q: %w", path, err)
		}
		f, off, ok := field(Strip(m.Type), name)
		if !ok {
			return Member{}, fmt.Errorf("member %q of %s: %w", name, typeName(m.Type), ErrNotFound)
		}
		m = Member{Offset: m.Offset + off, Type: f.Type, BitSize: f.BitSize}
		if f.BitSize > 0 {
			m.BitOffset = bitOffset(f)
		}
		for _, i := range idx {
			at, ok := Strip(m.Type).(*dwarf.ArrayType)
			if !ok {
				return Member{}, fmt.Errorf("member %q: %s is not an array", path, name)
			}
			if err := checkIndex(name, i, at.Count); err != nil {
				return Member{}, fmt.Errorf("member %q: %w", path, err)
			}
			m.Type = at.Type
			m.Offset += i * at.Type.Size()
		}
	}
	return m, nil
}

// bitOffset converts either DWARF bit-field encoding to an offset from the
// least significant bit of the member's storage (little-endian targets).
func bitOffset(f *dwarf.StructField) int64 {
	if f.DataBitOffset != 0 || f.BitOffset == 0 {
		return f.DataBitOffset - f.ByteOffset*8
	}
	// DWARF 2/3 bit_offset counts from the most significant bit.
	return f.ByteSize*8 - f.BitOffset - f.BitSize
}

// maxFlexIndex bounds an index into a flexible array member, whose
// length DWARF does not give.
const maxFlexIndex = 1 << 24

// checkIndex refuses an index outside an array of count elements (count
// ≤ 0: a flexible array member): past the end it would name memory that
// belongs to something else.
func checkIndex(name string, i, count int64) error {
	if i < 0 || (count > 0 && i >= count) || (count <= 0 && i >= maxFlexIndex) {
		return fmt.Errorf("%w: index %d of %s[%d]", ErrIndex, i, name, max(count, 0))
	}
	return nil
}

func splitIndex(part string) (string, []int64, error) {
	name, rest, ok := strings.Cut(part, "[")
	if !ok {
		return part, nil, nil
	}
	var idx []int64
	for _, s := range strings.Split(strings.TrimSuffix(rest, "]"), "][") {
		i, err := strconv.ParseInt(s, 0, 64)
		if err != nil {
			return "", nil, fmt.Errorf("bad index %q", s)
		}
		idx = append(idx, i)
	}
	return name, idx, nil
}

// field finds name among st's members, descending into anonymous members.
func field(t dwarf.Type, name string) (*dwarf.StructField, int64, bool) {
	st, ok := t.(*dwarf.StructType)
	if !ok {
		return nil, 0, false
	}
	for _, f := range st.Field {
		if f.Name == name {
			return f, f.ByteOffset, true
		}
	}
	for _, f := range st.Field {
		if f.Name != "" {
			continue
		}
		if inner, off, ok := field(Strip(f.Type), name); ok {
			return inner, f.ByteOffset + off, true
		}
	}
	return nil, 0, false
}

// Offset is a convenience for the kernel helpers: the offset of a member
// path inside a named type ("struct task_struct", "tasks").
func (t *Types) Offset(typeName, path string) (int64, error) {
	f, err := t.FieldOf(typeName, path)
	return f.Offset, err
}

// Size returns the byte size of a named type.
func (t *Types) Size(typeName string) (int64, error) {
	if t == nil {
		return 0, ErrNoDWARF
	}
	t.fields.mu.Lock() // the scanner's caches are not shared-safe
	defer t.fields.mu.Unlock()
	off, err := t.namedOffset(typeName)
	if err != nil {
		return 0, err
	}
	return t.sizeOf(off)
}
