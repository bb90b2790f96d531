// Package lines maps kernel code addresses to source file and line from
// the vmlinux's DWARF line tables (.debug_line, DWARF 2 to 5), for
// crash's dis -l, bt -l and sym. The DWARF is parsed on the first
// question, not when a dump opens: most sessions never ask one.
package lines

import (
	"debug/dwarf"
	"debug/elf"
	"errors"
	"fmt"
	"sort"
	"sync"
)

// ErrNoLine means no line table row covers the address.
var ErrNoLine = errors.New("no line information")

// Table answers address → file:line questions for one vmlinux.
type Table struct {
	f      *elf.File
	offset uint64 // subtracted from asked addresses: KASLR's KERNELOFFSET

	once sync.Once
	d    *dwarf.Data
	err  error

	mu    sync.Mutex
	units map[dwarf.Offset][]row
}

// row is one line-table row.
type row struct {
	addr   uint64
	file   string
	line   int
	stmt   bool
	endSeq bool
}

// New returns a Table over f; addresses asked are moved back by offset
// (the kernel's KASLR offset) to the link-time addresses the DWARF has.
func New(f *elf.File, offset uint64) *Table {
	return &Table{f: f, offset: offset, units: map[dwarf.Offset][]row{}}
}

// Line is one answer: the source file and line of an address.
type Line struct {
	File string
	Line int
}

func (l Line) String() string { return fmt.Sprintf("%s: %d", l.File, l.Line) }

// At returns the source line of the instruction at pc. For code inlined
// into a function it is the inlined source's line, as gdb and crash show.
func (t *Table) At(pc uint64) (Line, error) {
	t.once.Do(func() {
		if t.f == nil {
			t.err = fmt.Errorf("no vmlinux: %w", ErrNoLine)
			return
		}
		t.d, t.err = t.f.DWARF()
	})
	if t.err != nil {
		return Line{}, t.err
	}
	pc -= t.offset
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.d.Reader()
	cu, err := r.SeekPC(pc)
	if err != nil {
		return Line{}, fmt.Errorf("%#x: %w", pc, ErrNoLine)
	}
	rows, ok := t.units[cu.Offset]
	if !ok {
		if rows, err = t.readUnit(cu); err != nil {
			return Line{}, fmt.Errorf("%#x: %w", pc, err)
		}
		t.units[cu.Offset] = rows
	}
	return pick(rows, pc)
}

// readUnit reads a unit's line table, sorted by address (rows at one
// address keep their order). debug/dwarf's LineReader.SeekPC does not
// find addresses in the kernel's tables, whose units hold many
// sequences, so the rows are searched here.
func (t *Table) readUnit(cu *dwarf.Entry) ([]row, error) {
	lr, err := t.d.LineReader(cu)
	if err != nil || lr == nil {
		return nil, fmt.Errorf("line table of unit %#x: %v: %w", cu.Offset, err, ErrNoLine)
	}
	var rows []row
	var e dwarf.LineEntry
	for {
		if err := lr.Next(&e); err != nil {
			break
		}
		r := row{addr: e.Address, line: e.Line, stmt: e.IsStmt, endSeq: e.EndSequence}
		if e.File != nil {
			r.file = e.File.Name
		}
		rows = append(rows, r)
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].addr < rows[j].addr })
	return rows, nil
}

// pick is gdb's choice of line for pc: the rows at the greatest address
// not above pc, and among them the last that is a statement (gdb 10
// prefers is_stmt rows, so an inlined callee's line shows, as crash
// prints it); none when that row ends a sequence.
func pick(rows []row, pc uint64) (Line, error) {
	i := sort.Search(len(rows), func(i int) bool { return rows[i].addr > pc }) - 1
	if i < 0 {
		return Line{}, fmt.Errorf("%#x: %w", pc, ErrNoLine)
	}
	at := rows[i].addr
	best := -1
	for j := i; j >= 0 && rows[j].addr == at; j-- {
		if rows[j].endSeq {
			continue
		}
		if rows[j].stmt {
			best = j
			break
		}
		if best < 0 {
			best = j
		}
	}
	if best < 0 || rows[best].file == "" {
		return Line{}, fmt.Errorf("%#x: %w", pc, ErrNoLine)
	}
	return Line{File: rows[best].file, Line: rows[best].line}, nil
}
