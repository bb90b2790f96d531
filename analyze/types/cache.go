package types

import (
	"bytes"
	"cmp"
	"debug/dwarf"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"

	"github.com/kdumpkit/kdumpkit/internal/atomicfile"
)

// The cache file holds the index of the units below a .debug_info offset
// (all of them once some run needed them all), sorted so that a run reads
// it with one read and answers from it by binary search, building no map:
//
//	magic (cacheMagic)
//	u64 length of .debug_info, u64 offset the indexed units end at, u32 n
//	n × u32 where each entry starts, relative to the first entry
//	n entries, sorted by (kind, name): u8 kind, u8 defined, u64 DIE offset, name, NUL
//
// All numbers are little-endian.
const cacheMagic = "kdumpkit dwarf name index v2\n"

const cacheHeader = len(cacheMagic) + 8 + 8 + 4

// cacheTable is a cache file's entries, checked when loaded.
type cacheTable struct {
	starts  []byte // n × u32
	entries []byte
	n       int
}

func (c cacheTable) at(i int) (Kind, entry, []byte) {
	p := c.entries[binary.LittleEndian.Uint32(c.starts[4*i:]):]
	name := p[10 : 10+bytes.IndexByte(p[10:], 0)]
	return Kind(p[0]), entry{dwarf.Offset(binary.LittleEndian.Uint64(p[2:])), p[1] != 0}, name
}

func (c cacheTable) find(kind Kind, name string) (entry, bool) {
	if c.n == 0 {
		return entry{}, false
	}
	i := sort.Search(c.n, func(i int) bool {
		k, _, nm := c.at(i)
		return k > kind || (k == kind && string(nm) >= name)
	})
	if i == c.n {
		return entry{}, false
	}
	k, e, nm := c.at(i)
	return e, k == kind && string(nm) == name
}

// parseCache checks a cache file against this .debug_info and returns its
// entries and the offset they cover up to.
func parseCache(b []byte, infoLen int) (cacheTable, int, error) {
	if len(b) < cacheHeader || string(b[:len(cacheMagic)]) != cacheMagic {
		return cacheTable{}, 0, errors.New("not a name index of this version")
	}
	h := b[len(cacheMagic):]
	if binary.LittleEndian.Uint64(h) != uint64(infoLen) {
		return cacheTable{}, 0, errors.New("made for another .debug_info")
	}
	end := binary.LittleEndian.Uint64(h[8:])
	n := uint64(binary.LittleEndian.Uint32(h[16:]))
	if end > uint64(infoLen) || n*4 > uint64(len(b)-cacheHeader) {
		return cacheTable{}, 0, errors.New("header out of range")
	}
	c := cacheTable{starts: b[cacheHeader : cacheHeader+4*int(n)], entries: b[cacheHeader+4*int(n):], n: int(n)}
	var prevKind Kind
	var prev []byte
	for i := range c.n {
		start := uint64(binary.LittleEndian.Uint32(c.starts[4*i:]))
		if start+11 > uint64(len(c.entries)) {
			return cacheTable{}, 0, fmt.Errorf("entry %d out of range", i)
		}
		p := c.entries[start:]
		nul := bytes.IndexByte(p[10:], 0)
		if nul <= 0 || p[0] >= byte(numKinds) || p[1] > 1 {
			return cacheTable{}, 0, fmt.Errorf("entry %d malformed", i)
		}
		kind, name := Kind(p[0]), p[10:10+nul]
		if i > 0 && (kind < prevKind || (kind == prevKind && bytes.Compare(name, prev) <= 0)) {
			return cacheTable{}, 0, fmt.Errorf("entry %d out of order", i)
		}
		prevKind, prev = kind, name
	}
	return c, int(end), nil
}

// loadIndexCache starts the index from the cache file when it fits this
// .debug_info; anything else leaves the index empty, to be rebuilt.
func (t *Types) loadIndexCache() {
	ix := &t.idx
	b, err := os.ReadFile(ix.cachePath)
	if err != nil {
		return
	}
	c, end, err := parseCache(b, ix.scan.infoLen)
	if err != nil {
		return
	}
	next := 0
	if end < ix.scan.infoLen {
		us, err := ix.scan.unitsThrough(end)
		if err != nil {
			return
		}
		next = sort.Search(len(us), func(i int) bool { return us[i].start >= end })
		if next == len(us) || us[next].start != end {
			return // not a unit boundary: not ours
		}
	}
	ix.cached, ix.cachedEnd, ix.scannedEnd, ix.nextUnit = c, end, end, next
	ix.complete = end == ix.scan.infoLen
}

// saveIndexCache writes the index when this run indexed units the cache
// file does not have. A cache that cannot be written only costs time.
// ix.mu is held.
func (t *Types) saveIndexCache() {
	if snap := t.snapshotIndex(); snap != nil && snap.write() == nil {
		t.idx.cachedEnd = max(t.idx.cachedEnd, snap.end) // what the file now holds
	}
}

// indexSnapshot is the index as a cache file will hold it, taken under
// ix.mu and written without it (sorting and writing 30k names is a few
// milliseconds that questions need not wait for).
type indexSnapshot struct {
	path         string
	infoLen, end int
	recs         []indexRec
}

type indexRec struct {
	kind Kind
	name string
	e    entry
}

// snapshotIndex collects the index for saving, nil when the cache file
// has it all already. ix.mu is held.
func (t *Types) snapshotIndex() *indexSnapshot {
	ix := &t.idx
	if ix.cachePath == "" || ix.scan == nil || ix.err != nil || ix.scannedEnd <= ix.cachedEnd {
		return nil
	}
	snap := &indexSnapshot{path: ix.cachePath, infoLen: ix.scan.infoLen, end: ix.scannedEnd}
	for i := range ix.cached.n {
		k, e, name := ix.cached.at(i)
		s, ok := ix.scanned[k][string(name)]
		e, _ = better(e, s, true, ok)
		snap.recs = append(snap.recs, indexRec{k, string(name), e})
	}
	for k, m := range ix.scanned {
		for name, e := range m {
			if _, ok := ix.cached.find(Kind(k), name); !ok {
				snap.recs = append(snap.recs, indexRec{Kind(k), name, e})
			}
		}
	}
	return snap
}

// write sorts the snapshot and replaces the cache file with it.
func (snap *indexSnapshot) write() error {
	slices.SortFunc(snap.recs, func(a, b indexRec) int {
		return cmp.Or(cmp.Compare(a.kind, b.kind), cmp.Compare(a.name, b.name))
	})
	var out, entries []byte
	out = append(out, cacheMagic...)
	out = binary.LittleEndian.AppendUint64(out, uint64(snap.infoLen))
	out = binary.LittleEndian.AppendUint64(out, uint64(snap.end))
	out = binary.LittleEndian.AppendUint32(out, uint32(len(snap.recs)))
	for _, r := range snap.recs {
		out = binary.LittleEndian.AppendUint32(out, uint32(len(entries)))
		defined := byte(0)
		if r.e.defined {
			defined = 1
		}
		entries = append(entries, byte(r.kind), defined)
		entries = binary.LittleEndian.AppendUint64(entries, uint64(r.e.off))
		entries = append(append(entries, r.name...), 0)
	}
	return atomicfile.Write(snap.path, func(f *os.File) error {
		_, err := f.Write(append(out, entries...))
		return err
	})
}
