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
	"path/filepath"

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
	size := 0
	for _, s := range t.sorted {
		size += len(s.Name)
	}
	return writeAtomic(path, func(f *os.File) error {
		crc := crc32.New(castagnoli)
		w := bufio.NewWriterSize(io.MultiWriter(f, crc), 64<<10)
		if _, err := f.WriteString(tableMagic + "\x00\x00\x00\x00"); err != nil { // the checksum comes last
			return err
		}
		var rec [recordSize]byte
		header := binary.LittleEndian.AppendUint64(nil, uint64(len(t.sorted)))
		header = binary.LittleEndian.AppendUint64(header, uint64(len(t.byName.slots)))
		header = binary.LittleEndian.AppendUint64(header, uint64(size))
		w.Write(header)
		off := 0
		for _, s := range t.sorted {
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
		for _, k := range t.byName.slots {
			w.Write(binary.LittleEndian.AppendUint32(rec[:0], uint32(k)))
		}
		for _, s := range t.sorted {
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
// the caller builds the table anew. The file is mapped while it is read,
// and only the names are copied out of it.
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
	defer unmap()
	t, err := parseTable(b)
	if err != nil {
		return nil, fmt.Errorf("symbol table %s: %w", path, err)
	}
	return t, nil
}

func parseTable(b []byte) (*Table, error) {
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
	recs := body[24 : 24+n*recordSize]
	slotBytes := body[24+n*recordSize : 24+n*recordSize+slots*4]
	names := string(body[24+n*recordSize+slots*4:])
	t := &Table{sorted: make([]Symbol, n)}
	for i := range t.sorted {
		r := recs[i*recordSize:]
		off, l := uint64(binary.LittleEndian.Uint32(r[16:])), uint64(binary.LittleEndian.Uint32(r[20:]))
		if off+l > size {
			return nil, fmt.Errorf("symbol %d: name out of range", i)
		}
		s := Symbol{
			Addr: binary.LittleEndian.Uint64(r), Size: binary.LittleEndian.Uint64(r[8:]),
			Name: names[off : off+l], Type: elf.SymType(r[24]), Global: r[25] != 0, Class: r[26],
		}
		if i > 0 && s.Addr < t.sorted[i-1].Addr {
			return nil, fmt.Errorf("symbol %d out of order", i)
		}
		t.sorted[i] = s
	}
	t.byName = nameTable{syms: t.sorted, slots: make([]int32, slots)}
	empty := false
	for i := range t.byName.slots {
		k := int32(binary.LittleEndian.Uint32(slotBytes[4*i:]))
		if k < -1 || int64(k) >= int64(n) {
			return nil, fmt.Errorf("name slot %d out of range", i)
		}
		empty = empty || k == -1
		t.byName.slots[i] = k
	}
	if !empty {
		return nil, errors.New("no empty name slot")
	}
	return t, nil
}

// writeAtomic replaces path with what write writes, never leaving a
// half-written file.
func writeAtomic(path string, write func(*os.File) error) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".symbols-*")
	if err != nil {
		return err
	}
	err = write(tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}
