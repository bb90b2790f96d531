package kernel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// treeMem is a synthetic 64-bit memory for the tree walkers.
type treeMem []byte

func (m treeMem) put(addr, v uint64) { binary.LittleEndian.PutUint64(m[addr-memBase:], v) }

// rbFixture: seven rb_nodes of 24 bytes ({parent, right, left}) forming
// a full tree of depth 3; node i sits at memBase+32*i; the root at
// memBase+32*3, in-order the nodes are 0..6.
func rbFixture() treeMem {
	m := make(treeMem, 512)
	node := func(i int) uint64 { return memBase + 32*uint64(i) }
	link := func(i, l, r int) {
		m.put(node(i)+16, node(l))
		m.put(node(i)+8, node(r))
	}
	link(3, 1, 5)
	link(1, 0, 2)
	link(5, 4, 6)
	return m
}

func TestRBTreeOrders(t *testing.T) {
	k := New(byteMem(rbFixture()), nil, nil, binary.LittleEndian, 8, nil)
	top := uint64(memBase + 32*3)
	names := func(es []TreeEntry) string {
		var s []string
		for _, e := range es {
			s = append(s, fmt.Sprintf("%d:%s", (e.Entry-memBase)/32, e.Pos))
		}
		return strings.Join(s, " ")
	}
	in, err := k.RBTree(top, true, 100)
	if got := names(in); err != nil || got != "0:root/l/l 1:root/l 2:root/l/r 3:root 4:root/r/l 5:root/r 6:root/r/r" {
		t.Errorf("in order: %s (%v)", got, err)
	}
	pre, err := k.RBTree(top, false, 100)
	if got := names(pre); err != nil || got != "3:root 1:root/l 0:root/l/l 2:root/l/r 5:root/r 4:root/r/l 6:root/r/r" {
		t.Errorf("node first: %s (%v)", got, err)
	}
	// node 6's right child is the root: a loop.
	m := rbFixture()
	m.put(memBase+32*6+8, top)
	k = New(byteMem(m), nil, nil, binary.LittleEndian, 8, nil)
	if _, err := k.RBTree(top, true, 100); !errors.Is(err, ErrLoop) || !strings.Contains(err.Error(), fmt.Sprintf("%#x", top)) {
		t.Errorf("loop: %v", err)
	}
	if _, err := k.RBTree(top, false, 3); !errors.Is(err, ErrLoop) {
		t.Errorf("over the limit: %v", err)
	}
}

// FuzzRBTree walks hostile memory as a red-black tree, both orders: the
// walk ends, meets no node twice, and returns at most max nodes.
func FuzzRBTree(f *testing.F) {
	f.Add([]byte(rbFixture()), uint8(3*32), true)
	f.Add(make([]byte, 64), uint8(0), false)
	f.Fuzz(func(t *testing.T, b []byte, start uint8, linear bool) {
		k := New(byteMem(b), nil, nil, binary.LittleEndian, 8, nil)
		es, err := k.RBTree(memBase+uint64(start), linear, 64)
		seen := map[uint64]bool{}
		for _, e := range es {
			if seen[e.Entry] {
				t.Fatalf("node %#x returned twice", e.Entry)
			}
			seen[e.Entry] = true
		}
		if len(es) > 64 || err != nil && !strings.Contains(err.Error(), "0x") {
			t.Fatalf("%d nodes, error %v", len(es), err)
		}
	})
}

// testXA is a small XArray layout: xa_head at 8, a node's shift at 0 and
// four slots from 16 (XA_CHUNK_SHIFT 2).
var testXA = XArrayLayout{Head: 8, Shift: 0, Slots: 16, NSlots: 4}

// xaFixture: the xarray at memBase, its head a node of shift 2 at
// memBase+64 whose slot 1 is a leaf node (shift 0) at memBase+128
// holding entries at indices 5 and 7, and whose slot 3 holds a value
// entry at index 12; slot 2 is a sibling entry.
func xaFixture() treeMem {
	m := make(treeMem, 512)
	m.put(memBase+8, memBase+64|2)
	m[64] = 2
	m.put(memBase+64+16+8, memBase+128|2)
	m.put(memBase+64+16+16, 1<<2|2) // sibling of slot 1
	m.put(memBase+64+16+24, 0x2a<<1|1)
	m[128] = 0
	m.put(memBase+128+16+8, 0xa000)
	m.put(memBase+128+16+24, 0xb000)
	return m
}

func TestXArrayFixture(t *testing.T) {
	k := New(byteMem(xaFixture()), nil, nil, binary.LittleEndian, 8, nil)
	es, err := k.XArray(memBase, false, testXA, 100)
	var got []string
	for _, e := range es {
		got = append(got, fmt.Sprintf("%d=%#x@%s", e.Index, e.Entry, e.Pos))
	}
	if want := "5=0xa000@root/1/1 7=0xb000@root/1/3 12=0x55@root/3"; strings.Join(got, " ") != want || err != nil {
		t.Errorf("got %s (%v), want %s", strings.Join(got, " "), err, want)
	}
	m := xaFixture()
	m.put(memBase+128+16, memBase+64|2) // the leaf links back to the top node
	k = New(byteMem(m), nil, nil, binary.LittleEndian, 8, nil)
	if _, err := k.XArray(memBase, false, testXA, 100); err == nil || !strings.Contains(err.Error(), "node 0x10080") {
		t.Errorf("a node below shift 0 linking up: %v", err)
	}
}

// FuzzXArray: over hostile memory the walk ends, returns indices in
// increasing order (each slot's index is its parent's plus its offset
// shifted), and at most max entries.
func FuzzXArray(f *testing.F) {
	f.Add([]byte(xaFixture()), uint8(0), false)
	f.Add([]byte(xaFixture()), uint8(64), true)
	f.Fuzz(func(t *testing.T, b []byte, start uint8, node bool) {
		k := New(byteMem(b), nil, nil, binary.LittleEndian, 8, nil)
		es, err := k.XArray(memBase+uint64(start), node, testXA, 64)
		for i := 1; i < len(es); i++ {
			if es[i].Index <= es[i-1].Index {
				t.Fatalf("index %d after %d", es[i].Index, es[i-1].Index)
			}
		}
		if len(es) > 64 || err != nil && !strings.Contains(err.Error(), "0x") {
			t.Fatalf("%d entries, error %v", len(es), err)
		}
	})
}

// testMaple: ma_root at 8; both node shapes have three pivots at 8 and
// four slots at 32.
var testMaple = MapleLayout{Root: 8,
	Range:  mapleNodeLayout{Pivot: 8, Slot: 32, NPivot: 3, NSlots: 4},
	Arange: mapleNodeLayout{Pivot: 8, Slot: 32, NPivot: 3, NSlots: 4}}

// mapleFixture: the tree at memBase, its root a maple_range_64 at
// memBase+256 with pivots 99, max: slot 0 a leaf at memBase+512 over
// [0, 99], slot 1 a leaf at memBase+768 over [100, max]. The first leaf
// holds 0xa000 over [10, 19] (gaps are NULL slots) and ends at pivot 99;
// the second 0xb000 over [100, 199], NULL up to max, its last slot
// holding node metadata that is not data.
func mapleFixture() treeMem {
	m := make(treeMem, 1024)
	// The root pointer is node|type<<3|2 (MAPLE_ROOT_NODE), a child in
	// a slot node|type<<3|4 (mt_mk_node's MAPLE_ENODE_NULL).
	enc := func(addr uint64, typ uint64) uint64 { return addr | typ<<mapleTypeShift | 4 }
	m.put(memBase+8, enc(memBase+256, mapleRange64)&^4|2)
	m.put(memBase+256+8, 99)
	m.put(memBase+256+16, ^uint64(0)) // the node's max ends its data
	m.put(memBase+256+32, enc(memBase+512, mapleLeaf64))
	m.put(memBase+256+40, enc(memBase+768, mapleLeaf64))
	m.put(memBase+512+8, 9)
	m.put(memBase+512+16, 19)
	m.put(memBase+512+24, 99)
	m.put(memBase+512+40, 0xa000)
	m.put(memBase+768+8, 199)
	m.put(memBase+768+16, ^uint64(0))
	m.put(memBase+768+32, 0xb000)
	m.put(memBase+768+56, 0xdead00) // metadata: past the data end
	return m
}

func TestMapleFixture(t *testing.T) {
	k := New(byteMem(mapleFixture()), nil, nil, binary.LittleEndian, 8, nil)
	es, err := k.MapleTree(memBase, false, testMaple, 100)
	var got []string
	for _, e := range es {
		got = append(got, fmt.Sprintf("[%d,%d]=%#x@%s", e.Index, e.Last, e.Entry, e.Pos))
	}
	if want := "[10,19]=0xa000@root/0/1 [100,199]=0xb000@root/1/0"; strings.Join(got, " ") != want || err != nil {
		t.Errorf("got %s (%v), want %s", strings.Join(got, " "), err, want)
	}
	m := mapleFixture()
	m.put(memBase+256+40, uint64(memBase+256)|mapleRange64<<mapleTypeShift|4) // the root's slot 1 is the root
	k = New(byteMem(m), nil, nil, binary.LittleEndian, 8, nil)
	if _, err := k.MapleTree(memBase, false, testMaple, 100); !errors.Is(err, ErrLoop) {
		t.Errorf("root linking to itself: %v", err)
	}
}

// FuzzMapleTree: over hostile memory the walk ends, and the ranges it
// returns are each in order (Index ≤ Last) and after the one before.
func FuzzMapleTree(f *testing.F) {
	f.Add([]byte(mapleFixture()), uint8(0), false)
	f.Add(make([]byte, 64), uint8(0), false)
	f.Fuzz(func(t *testing.T, b []byte, start uint8, node bool) {
		k := New(byteMem(b), nil, nil, binary.LittleEndian, 8, nil)
		es, err := k.MapleTree(memBase+uint64(start), node, testMaple, 64)
		for i, e := range es {
			if e.Index > e.Last || i > 0 && e.Index <= es[i-1].Last {
				t.Fatalf("range %d [%d, %d] after [%d, %d]", i, e.Index, e.Last, es[max(i-1, 0)].Index, es[max(i-1, 0)].Last)
			}
		}
		if len(es) > 64 || err != nil && !strings.Contains(err.Error(), "0x") {
			t.Fatalf("%d entries, error %v", len(es), err)
		}
	})
}
