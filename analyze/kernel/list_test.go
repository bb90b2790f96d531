package kernel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
)

// wordMem is a sparse 32-bit little-endian memory for fault injection.
type wordMem map[uint64]uint32

func (m wordMem) ReadVirt(addr uint64, buf []byte) error {
	for i := 0; i < len(buf); i += 4 {
		w, ok := m[addr+uint64(i)]
		if !ok {
			return fmt.Errorf("address %#x unreadable", addr+uint64(i))
		}
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], w)
		copy(buf[i:], b[:])
	}
	return nil
}

func TestWalkListLoop(t *testing.T) {
	// head -> a -> b -> a: b's next points back into the list, not to head.
	mem := wordMem{0x100: 0x200, 0x200: 0x300, 0x300: 0x200}
	k := New(mem, nil, nil, binary.LittleEndian, 4, nil)
	nodes, err := k.walkList(0x100)
	if !errors.Is(err, ErrLoop) {
		t.Fatalf("err = %v, want ErrLoop", err)
	}
	if len(nodes) != 2 {
		t.Errorf("nodes = %#x, want the two before the loop", nodes)
	}
}

func TestWalkListBroken(t *testing.T) {
	for name, mem := range map[string]wordMem{
		"null":       {0x100: 0x200, 0x200: 0},
		"unreadable": {0x100: 0x200, 0x200: 0x900},
	} {
		k := New(mem, nil, nil, binary.LittleEndian, 4, nil)
		nodes, err := k.walkList(0x100)
		if err == nil || len(nodes) != 1 {
			t.Errorf("%s: nodes %#x err %v, want one node and an error", name, nodes, err)
		}
	}
	k := New(wordMem{0x100: 0x200, 0x200: 0x100}, nil, nil, binary.LittleEndian, 4, nil)
	if nodes, err := k.walkList(0x100); err != nil || len(nodes) != 1 {
		t.Errorf("good list: %#x, %v", nodes, err)
	}
}

func TestTasksWithoutTypes(t *testing.T) {
	k := New(wordMem{}, nil, nil, binary.LittleEndian, 4, nil)
	ts, warns := k.Tasks()
	if len(ts) != 0 || len(warns) == 0 {
		t.Errorf("no symbols or DWARF: tasks %v warnings %v; want none and a warning", ts, warns)
	}
}
