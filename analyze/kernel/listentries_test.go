package kernel

import (
	"encoding/binary"
	"errors"
	"slices"
	"testing"
)

// Entries 0x1000, 0x2000, 0x3000 with their link at offset 8: a ring.
func ringMem() wordMem {
	return wordMem{0x1008: 0x2008, 0x2008: 0x3008, 0x3008: 0x1008, 0x100c: 0x3008, 0x200c: 0x1008, 0x300c: 0x2008}
}

func TestListEntries(t *testing.T) {
	k := New(ringMem(), nil, nil, binary.LittleEndian, 4, nil)
	got, err := k.ListEntries(0x1000, 8, 0, false, 100)
	if err != nil || !slices.Equal(got, []uint64{0x1000, 0x2000, 0x3000}) {
		t.Errorf("forward = %#x, %v", got, err)
	}
	got, err = k.ListEntries(0x1000, 8, 0, true, 100)
	if err != nil || !slices.Equal(got, []uint64{0x1000, 0x3000, 0x2000}) {
		t.Errorf("reverse (prev) = %#x, %v", got, err)
	}
	// A head at 0x3008 outside the entries stops the walk there.
	got, err = k.ListEntries(0x1000, 8, 0x3008, false, 100)
	if err != nil || !slices.Equal(got, []uint64{0x1000, 0x2000}) {
		t.Errorf("up to the head = %#x, %v", got, err)
	}
	// A loop that does not return to the start: 0x3000 → 0x2000.
	mem := ringMem()
	mem[0x3008] = 0x2008
	k = New(mem, nil, nil, binary.LittleEndian, 4, nil)
	got, err = k.ListEntries(0x1000, 8, 0, false, 100)
	if !errors.Is(err, ErrLoop) || len(got) != 3 {
		t.Errorf("loop: %#x, %v; want the 3 entries and ErrLoop", got, err)
	}
	if _, err := k.ListEntries(0x1000, 8, 0, false, 2); !errors.Is(err, ErrLoop) {
		t.Errorf("max 2 of a 3-entry list: %v", err)
	}
	got, err = k.ListEntries(0x5000, 8, 0, false, 100)
	if err == nil || len(got) != 0 {
		t.Errorf("unreadable start: %#x, %v", got, err)
	}
}

// FuzzListEntries: any memory gives entries and an error, never a panic
// or an endless walk.
func FuzzListEntries(f *testing.F) {
	f.Add([]byte{8, 0x10, 0, 0, 0, 0x20, 0, 0, 0}, uint64(0x1000), int64(8), false)
	f.Fuzz(func(t *testing.T, words []byte, start uint64, off int64, reverse bool) {
		mem := wordMem{}
		for i := 0; i+4 < len(words) && i < 4096; i += 5 {
			mem[uint64(words[i])<<4] = binary.LittleEndian.Uint32(words[i+1:])
		}
		k := New(mem, nil, nil, binary.LittleEndian, 4, nil)
		got, _ := k.ListEntries(start&0xffffffff, off%4096, 0, reverse, 64)
		if len(got) > 64 {
			t.Fatalf("%d entries past the limit", len(got))
		}
	})
}

// A three-node rb tree rooted at 0x100: node 0x200 with left 0x300 and
// right 0x400 (struct rb_node: parent_color, right, left).
func rbMem() wordMem {
	return wordMem{
		0x100: 0x200,
		0x200: 0, 0x204: 0x400, 0x208: 0x300,
		0x300: 0x200, 0x304: 0, 0x308: 0,
		0x400: 0x200, 0x404: 0, 0x408: 0,
	}
}

func TestRBInOrder(t *testing.T) {
	k := New(rbMem(), nil, nil, binary.LittleEndian, 4, nil)
	got, err := k.rbInOrder(0x100)
	if err != nil || !slices.Equal(got, []uint64{0x300, 0x200, 0x400}) {
		t.Errorf("in order = %#x, %v", got, err)
	}
	mem := rbMem()
	mem[0x304] = 0x200 // a right link back up: a cycle
	k = New(mem, nil, nil, binary.LittleEndian, 4, nil)
	if _, err := k.rbInOrder(0x100); !errors.Is(err, ErrLoop) {
		t.Errorf("cycle: %v, want ErrLoop", err)
	}
	if _, err := New(wordMem{}, nil, nil, binary.LittleEndian, 4, nil).rbInOrder(0x100); err == nil {
		t.Error("an unreadable root gave no error")
	}
}

// FuzzRBInOrder: any memory gives nodes and an error, never a panic or
// an endless walk.
func FuzzRBInOrder(f *testing.F) {
	f.Add([]byte{0x10, 0x20, 0, 0, 0}, uint64(0x100))
	f.Fuzz(func(t *testing.T, words []byte, root uint64) {
		mem := wordMem{}
		for i := 0; i+4 < len(words) && i < 4096; i += 5 {
			mem[uint64(words[i])<<2] = binary.LittleEndian.Uint32(words[i+1:])
		}
		k := New(mem, nil, nil, binary.LittleEndian, 4, nil)
		got, _ := k.rbInOrder(root & 0x3ff)
		if len(got) > maxRBNodes {
			t.Fatalf("%d nodes past the limit", len(got))
		}
	})
}
