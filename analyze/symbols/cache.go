package symbols

import (
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
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
func (t *Table) Save(path string) error {
	size := 0
	for _, s := range t.sorted {
		size += len(s.Name)
	}
	b := make([]byte, 0, tableHeader+len(t.sorted)*recordSize+4*len(t.byName.slots)+size)
	b = append(b, tableMagic...)
	b = append(b, 0, 0, 0, 0) // the checksum, once the rest is written
	b = binary.LittleEndian.AppendUint64(b, uint64(len(t.sorted)))
	b = binary.LittleEndian.AppendUint64(b, uint64(len(t.byName.slots)))
	b = binary.LittleEndian.AppendUint64(b, uint64(size))
	off := 0
	for _, s := range t.sorted {
		b = binary.LittleEndian.AppendUint64(b, s.Addr)
		b = binary.LittleEndian.AppendUint64(b, s.Size)
		b = binary.LittleEndian.AppendUint32(b, uint32(off))
		b = binary.LittleEndian.AppendUint32(b, uint32(len(s.Name)))
		global := byte(0)
		if s.Global {
			global = 1
		}
		b = append(b, byte(s.Type), global, s.Class)
		off += len(s.Name)
	}
	for _, k := range t.byName.slots {
		b = binary.LittleEndian.AppendUint32(b, uint32(k))
	}
	for _, s := range t.sorted {
		b = append(b, s.Name...)
	}
	binary.LittleEndian.PutUint32(b[len(tableMagic):], crc32.Checksum(b[len(tableMagic)+4:], castagnoli))
	return writeAtomic(path, b)
}

// Load reads a table Save wrote. A damaged or foreign file is an error;
// the caller builds the table anew.
func Load(path string) (*Table, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
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

// writeAtomic replaces path with b, never leaving a half-written file.
func writeAtomic(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".symbols-*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(b)
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
