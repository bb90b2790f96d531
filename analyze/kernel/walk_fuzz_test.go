package kernel

import (
	"debug/elf"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"github.com/kdumpkit/kdumpkit/analyze/symbols"
	"github.com/kdumpkit/kdumpkit/analyze/types"
)

// memBase is where the fuzzed memory (init_task first) is mapped.
const (
	memBase = 0x10000
	memSize = 8 << 10
)

// byteMem is memory from one byte slice at memBase; the rest unreadable.
type byteMem []byte

func (m byteMem) ReadVirt(addr uint64, buf []byte) error {
	if addr < memBase || addr-memBase > uint64(len(m)) || uint64(len(buf)) > uint64(len(m))-(addr-memBase) {
		return fmt.Errorf("address %#x unreadable", addr)
	}
	copy(buf, m[addr-memBase:])
	return nil
}

func fixtureTypes(tb testing.TB) *types.Types { return typesOf(tb, "testdata/tasks.so") }

// typesOf reads the DWARF of a fixture built by testdata/gen.sh.
func typesOf(tb testing.TB, path string) *types.Types {
	tb.Helper()
	f, err := elf.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.Close() })
	ty, err := types.FromELF(f)
	if err != nil {
		tb.Fatal(err)
	}
	return ty
}

// taskLayout lays out init_task and two more tasks on the tasks list, the
// second with a thread of its own, as a well-formed seed.
func taskLayout(tb testing.TB, ty *types.Types) []byte {
	m := make([]byte, memSize)
	off := func(path string) uint64 {
		o, err := ty.Offset("struct task_struct", path)
		if err != nil {
			tb.Fatal(err)
		}
		return uint64(o)
	}
	size, err := ty.Size("struct task_struct")
	if err != nil {
		tb.Fatal(err)
	}
	put := func(addr, v uint64) { binary.LittleEndian.PutUint64(m[addr-memBase:], v) }
	task := func(i int) uint64 { return memBase + uint64(i)*uint64(size) }
	sig := memBase + 6*uint64(size) // a signal_struct for task 2
	for i, next := range []int{1, 2, 0} {
		put(task(i)+off("tasks"), task(next)+off("tasks"))
		binary.LittleEndian.PutUint32(m[task(i)+off("pid")-memBase:], uint32(i))
		copy(m[task(i)+off("comm")-memBase:], fmt.Sprintf("task%d", i))
	}
	// task 2's signal->thread_head holds task 2 and task 3 (a thread).
	headOff, _ := ty.Offset("struct signal_struct", "thread_head")
	put(task(2)+off("signal"), sig)
	put(sig+uint64(headOff), task(2)+off("thread_node"))
	put(task(2)+off("thread_node"), task(3)+off("thread_node"))
	put(task(3)+off("thread_node"), sig+uint64(headOff))
	binary.LittleEndian.PutUint32(m[task(3)+off("pid")-memBase:], 3)
	return m
}

// FuzzTaskWalk walks the task list and thread lists through hostile
// memory (loops, wild and NULL pointers, lists that never come back). The
// walk ends; no task is listed twice; every warning names an address.
func FuzzTaskWalk(f *testing.F) {
	ty := fixtureTypes(f)
	f.Add(taskLayout(f, ty))
	f.Add(make([]byte, memSize))
	syms := symbols.New([]symbols.Symbol{{Name: "init_task", Addr: memBase, Size: 1, Type: elf.STT_OBJECT, Global: true}})
	f.Fuzz(func(t *testing.T, b []byte) {
		m := make(byteMem, memSize)
		copy(m, b)
		k := New(m, syms, ty, binary.LittleEndian, 8, nil)
		tasks, warns := k.Tasks()
		seen := map[uint64]bool{}
		for _, tk := range tasks {
			if seen[tk.Addr] {
				t.Fatalf("task %#x listed twice", tk.Addr)
			}
			seen[tk.Addr] = true
		}
		for _, w := range warns {
			if !strings.Contains(w.Error(), "0x") {
				t.Fatalf("warning %q names no address", w)
			}
		}
	})
}

// FuzzWalkList follows list_head.next pointers through hostile memory from
// every head: the walk ends, visits each node at most once, never lists
// the head, and an error names the list.
func FuzzWalkList(f *testing.F) {
	ring := make([]byte, 64)
	for i := 0; i < 4; i++ { // head at memBase → +16 → +32 → +48 → head
		binary.LittleEndian.PutUint64(ring[16*i:], memBase+uint64(16*((i+1)%4)))
	}
	f.Add(ring, uint8(0))
	f.Add([]byte{0x10, 0, 1, 0, 0, 0, 0, 0}, uint8(0))
	f.Fuzz(func(t *testing.T, b []byte, start uint8) {
		k := New(byteMem(b), nil, nil, binary.LittleEndian, 8, nil)
		head := memBase + uint64(start)
		nodes, err := k.walkList(head)
		seen := map[uint64]bool{head: true}
		for _, n := range nodes {
			if seen[n] {
				t.Fatalf("node %#x visited twice (or is the head)", n)
			}
			seen[n] = true
		}
		if err != nil && !strings.Contains(err.Error(), fmt.Sprintf("%#x", head)) {
			t.Fatalf("error %q does not name the list at %#x", err, head)
		}
	})
}

// TestTaskWalkFixture: the fuzz seed is a well-formed task list (three
// processes, one with a second thread), so the fuzzer starts from a walk
// that reaches every list.
func TestTaskWalkFixture(t *testing.T) {
	ty := fixtureTypes(t)
	syms := symbols.New([]symbols.Symbol{{Name: "init_task", Addr: memBase, Size: 1, Type: elf.STT_OBJECT, Global: true}})
	k := New(byteMem(taskLayout(t, ty)), syms, ty, binary.LittleEndian, 8, nil)
	tasks, warns := k.Tasks()
	var got []string
	for _, tk := range tasks {
		got = append(got, fmt.Sprintf("%d:%s", tk.PID, tk.Comm))
	}
	if strings.Join(got, " ") != "0:task0 1:task1 2:task2 3:" || len(warns) != 0 {
		t.Errorf("tasks %q, warnings %v", got, warns)
	}
}
