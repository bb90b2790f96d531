package types

import (
	"errors"
	"testing"
)

// TestIndexOutOfBounds: comm[16] of a char comm[16] names the next
// member's bytes; both member-path resolvers refuse it, naming the index.
func TestIndexOutOfBounds(t *testing.T) {
	ty := fixture(t)
	st, err := ty.Named("struct task")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"comm[16]", "comm[-1]", "comm[99999999999]"} {
		if _, err := ty.FieldOf("struct task", path); !errors.Is(err, ErrIndex) {
			t.Errorf("FieldOf(%s) = %v, want ErrIndex", path, err)
		}
		if _, err := MemberOf(st, path); !errors.Is(err, ErrIndex) {
			t.Errorf("MemberOf(%s) = %v, want ErrIndex", path, err)
		}
	}
	if f, err := ty.FieldOf("struct task", "comm[15]"); err != nil || f.Size != 1 {
		t.Errorf("comm[15]: %+v %v", f, err)
	}
}

// FuzzMemberPath feeds member paths, as typed after `struct task_struct.`
// or `p init_task.`, to both resolvers (the DWARF scanner's FieldOf and
// debug/dwarf's MemberOf). A path they accept lies inside the struct, and
// they agree on where.
func FuzzMemberPath(f *testing.F) {
	for _, s := range []string{"comm", "comm[3]", "tasks.next", "thread_info.cpu_context.sp", "pid", "raw[2]",
		"bits", "parent", "comm[", "comm[]", "comm[0x10]", "a.b.c", "..", "comm[1][2]", "tasks.next.next", "comm[-1]"} {
		f.Add(s)
	}
	ty := fixture(f)
	st, err := ty.Named("struct task")
	if err != nil {
		f.Fatal(err)
	}
	size := st.Size()
	f.Fuzz(func(t *testing.T, path string) {
		fld, ferr := ty.FieldOf("struct task", path)
		m, merr := MemberOf(st, path)
		if ferr == nil {
			if fld.Offset < 0 || fld.Size <= 0 || fld.Offset+fld.Size > size {
				t.Fatalf("FieldOf(%q) = offset %d size %d, outside the %d-byte struct", path, fld.Offset, fld.Size, size)
			}
		}
		if merr == nil {
			if ms := m.Type.Size(); m.Offset < 0 || m.Offset+max(ms, 0) > size {
				t.Fatalf("MemberOf(%q) = offset %d size %d, outside the %d-byte struct", path, m.Offset, ms, size)
			}
		}
		if ferr == nil && merr == nil && fld.Offset != m.Offset {
			t.Fatalf("%q: FieldOf says offset %d, MemberOf %d", path, fld.Offset, m.Offset)
		}
	})
}
