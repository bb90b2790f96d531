package dump

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// Note is one ELF note.
type Note struct {
	Name string
	Type uint32
	Desc []byte
}

// ParseNotes splits a PT_NOTE payload into notes (Elf32_Nhdr and
// Elf64_Nhdr are the same: 4-byte namesz, descsz, type; name and desc
// padded to 4 bytes, as the kernel writes them). A zero header ends the
// list: the kernel leaves room for notes it did not fill.
func ParseNotes(data []byte, bo binary.ByteOrder) ([]Note, error) {
	var out []Note
	for off := 0; off+12 <= len(data); {
		nsz, dsz, typ := bo.Uint32(data[off:]), bo.Uint32(data[off+4:]), bo.Uint32(data[off+8:])
		if nsz == 0 && dsz == 0 && typ == 0 {
			break
		}
		nameEnd := uint64(off) + 12 + uint64(nsz)
		descOff := uint64(off) + 12 + align4(uint64(nsz))
		descEnd := descOff + uint64(dsz)
		if nameEnd > uint64(len(data)) || descEnd > uint64(len(data)) {
			return out, &FormatError{int64(off), fmt.Sprintf("note (namesz %d, descsz %d) runs past the segment end (%d bytes)", nsz, dsz, len(data))}
		}
		name := string(bytes.TrimRight(data[off+12:nameEnd], "\x00"))
		out = append(out, Note{Name: name, Type: typ, Desc: data[descOff:descEnd]})
		next := descOff + align4(uint64(dsz))
		if next > uint64(len(data)) {
			break
		}
		off = int(next)
	}
	return out, nil
}

func align4(n uint64) uint64 { return (n + 3) &^ 3 }
