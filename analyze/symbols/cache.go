package symbols

import (
	"bufio"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"runtime"

	"github.com/kdumpkit/kdumpkit/internal/atomicfile"
	"github.com/kdumpkit/kdumpkit/internal/mapfile"
)

// A table file holds a built Table (sorted symbols and the name table's
// slots) so that a later run over the same vmlinux reads it instead of
// decoding, sorting and hashing 90k symbols again:
//
//	magic (tableMagic)
//	u32 CRC-32C of everything after this field
//	u64 n symbols, u64 name-table slots, u64 bytes of names
//	n × (u64 addr, u64 size, u32 name offset, u32 name length, u8 type, u8 global, u8 class)
//	slots × i32 (an index into the symbols, -1 for none)
//	the names, back to back
//
// All numbers are little-endian.
const tableMagic = "kdumpkit symbol table v1\n"

const (
	tableHeader = len(tableMagic) + 4 + 3*8
	recordSize  = 8 + 8 + 4 + 4 + 3
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Save writes t to path, replacing it whole or not at all. Name the file
// after the vmlinux BUILD-ID: a table is only true of the file it came from.
// It streams through a small buffer: building the 5 MB file in memory
// first cost a page fault per page.
func (t *Table) Save(path string) error {
	all := t.All()
	slots := t.byName.slots
	if t.file != nil {
		slots = make([]int32, t.file.nslots)
		for j := range slots {
			slots[j] = t.file.slot(j)
		}
	}
	size := 0
	for _, s := range all {
		size += len(s.Name)
	}
	return atomicfile.Write(path, func(f *os.File) error {
		crc := crc32.New(castagnoli)
		w := bufio.NewWriterSize(io.MultiWriter(f, crc), 64<<10)
		if _, err := f.WriteString(tableMagic + "\x00\x00\x00\x00"); err != nil { // the checksum comes last
			return err
		}
		var rec [recordSize]byte
		header := binary.LittleEndian.AppendUint64(nil, uint64(len(all)))
		header = binary.LittleEndian.AppendUint64(header, uint64(len(slots)))
		header = binary.LittleEndian.AppendUint64(header, uint64(size))
		w.Write(header)
		off := 0
		for _, s := range all {
			binary.LittleEndian.PutUint64(rec[0:], s.Addr)
			binary.LittleEndian.PutUint64(rec[8:], s.Size)
			binary.LittleEndian.PutUint32(rec[16:], uint32(off))
			binary.LittleEndian.PutUint32(rec[20:], uint32(len(s.Name)))
			rec[24], rec[25], rec[26] = byte(s.Type), 0, s.Class
			if s.Global {
				rec[25] = 1
			}
			w.Write(rec[:])
			off += len(s.Name)
		}
		for _, k := range slots {
			w.Write(binary.LittleEndian.AppendUint32(rec[:0], uint32(k)))
		}
		for _, s := range all {
			w.WriteString(s.Name)
		}
		if err := w.Flush(); err != nil {
			return err
		}
		_, err := f.WriteAt(binary.LittleEndian.AppendUint32(nil, crc.Sum32()), int64(len(tableMagic)))
		return err
	})
}

// Load reads a table Save wrote. A damaged or foreign file is an error;
// the caller builds the table anew. The file stays mapped while the
// Table is reachable: lookups read it in place and copy out only the
// symbols they return (copying all 90k at once was most of a warm run's
// page faults).
func Load(path string) (*Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	b, unmap, err := mapfile.Map(f, st.Size())
	if err != nil {
		if b, err = os.ReadFile(path); err != nil {
			return nil, err
		}
		unmap = func() error { return nil }
	}
	tf, err := parseTable(b)
	if err != nil {
		unmap()
		return nil, fmt.Errorf("symbol table %s: %w", path, err)
	}
	// Nothing made from the mapping outlives tf: symbols are copied out.
	runtime.AddCleanup(tf, func(unmap func() error) { unmap() }, unmap)
	return fileTable(tf), nil
}

// fileTable is a Table that reads tf in place.
func fileTable(tf *tableFile) *Table { return &Table{file: tf, byName: nameTable{file: tf}} }

// tableFile is a checked table file's bytes.
type tableFile struct {
	recs, slots, names []byte
	n, nslots          int
}

func (f *tableFile) rec(i int) []byte { return f.recs[i*recordSize : (i+1)*recordSize] }

func (f *tableFile) addr(i int) uint64 { return binary.LittleEndian.Uint64(f.rec(i)) }

// name is the i-th symbol's name, in the file.
func (f *tableFile) name(i int) []byte {
	r := f.rec(i)
	off := binary.LittleEndian.Uint32(r[16:])
	return f.names[off : off+binary.LittleEndian.Uint32(r[20:])]
}

// symbol copies the i-th symbol out of the file.
func (f *tableFile) symbol(i int) Symbol {
	r := f.rec(i)
	return Symbol{
		Addr: binary.LittleEndian.Uint64(r), Size: binary.LittleEndian.Uint64(r[8:]),
		Name: string(f.name(i)), Type: elf.SymType(r[24]), Global: r[25] != 0, Class: r[26],
	}
}

func (f *tableFile) slot(j int) int32 { return int32(binary.LittleEndian.Uint32(f.slots[4*j:])) }

// parseTable checks a table file whole (checksum, sizes, every name in
// range, addresses in order, slots in range with one empty) so that the
// lookups that read it later need no checks.
func parseTable(b []byte) (*tableFile, error) {
	if len(b) < tableHeader || string(b[:len(tableMagic)]) != tableMagic {
		return nil, errors.New("not a symbol table of this version")
	}
	body := b[len(tableMagic)+4:]
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(b[len(tableMagic):]) {
		return nil, errors.New("checksum mismatch")
	}
	n, slots, size := binary.LittleEndian.Uint64(body), binary.LittleEndian.Uint64(body[8:]), binary.LittleEndian.Uint64(body[16:])
	rest := uint64(len(body) - 24)
	if n > rest/recordSize || slots > rest/4 || size > rest || n*recordSize+slots*4+size != rest {
		return nil, errors.New("sizes do not add up")
	}
	if slots <= n || slots&(slots-1) != 0 {
		return nil, fmt.Errorf("%d name slots for %d symbols", slots, n)
	}
	f := &tableFile{
		recs:  body[24 : 24+n*recordSize],
		slots: body[24+n*recordSize : 24+n*recordSize+slots*4],
		names: body[24+n*recordSize+slots*4:],
		n:     int(n), nslots: int(slots),
	}
	for i := range f.n {
		r := f.rec(i)
		if uint64(binary.LittleEndian.Uint32(r[16:]))+uint64(binary.LittleEndian.Uint32(r[20:])) > size {
			return nil, fmt.Errorf("symbol %d: name out of range", i)
		}
		if i > 0 && f.addr(i) < f.addr(i-1) {
			return nil, fmt.Errorf("symbol %d out of order", i)
		}
	}
	empty := false
	for j := range f.nslots {
		k := f.slot(j)
		if k < -1 || int64(k) >= int64(n) {
			return nil, fmt.Errorf("name slot %d out of range", j)
		}
		empty = empty || k == -1
	}
	if !empty {
		return nil, errors.New("no empty name slot")
	}
	return f, nil
}
