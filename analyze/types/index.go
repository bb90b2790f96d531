package types

import (
	"debug/dwarf"
	"fmt"
	"runtime"
	"sort"
	"sync"
)

// The name index maps (namespace, name) to the DIE that answers for it:
// for a type, the first complete definition in unit order; for a variable
// or function, the first entry with an address (a definition), else the
// first declaration. Those rules only look backwards, so the index of a
// prefix of the units answers every name it has settled (a type it has, a
// variable it has a definition of) exactly as the whole index would, and
// a question scans further units only until its name is settled. The
// kernel types every command needs (task_struct, mm_struct, rq) are in
// the first few percent of a vmlinux's 2000-odd units; a name that is not
// there at all costs the whole scan, which then runs on every core.

// entry is one indexed name.
type entry struct {
	off     dwarf.Offset
	defined bool // a type's definition, a variable or function with an address
}

// names holds entries by namespace.
type names [numKinds]map[string]entry

func newNames() *names {
	var n names
	for k := range n {
		n[k] = map[string]entry{}
	}
	return &n
}

// record applies the index rules to one top-level DIE met after every
// entry already in n.
func (n *names) record(kind Kind, name []byte, off dwarf.Offset, declaration, addr bool) {
	m := n[kind]
	if kind == KindVariable || kind == KindFunction {
		if old, dup := m[string(name)]; dup && (old.defined || !addr) {
			return
		}
		m[string(name)] = entry{off, addr}
		return
	}
	if declaration { // an incomplete "struct foo;" has no layout
		return
	}
	if _, dup := m[string(name)]; !dup {
		m[string(name)] = entry{off, true}
	}
}

// merge folds in the entries of later units with the same rules.
func (n *names) merge(later *names) {
	for k, m := range later {
		for name, e := range m {
			if old, dup := n[k][name]; !dup || (!old.defined && e.defined) {
				n[k][name] = e
			}
		}
	}
}

// better picks between an entry from earlier units and one from later
// units of the same name.
func better(earlier, later entry, okEarlier, okLater bool) (entry, bool) {
	switch {
	case okEarlier && (earlier.defined || !okLater || !later.defined):
		return earlier, true
	case okLater:
		return later, true
	}
	return entry{}, false
}

// nameIndex is the lazily grown index: cached covers the units below
// cachedEnd (from the cache file), scanned the units from there to
// scannedEnd.
type nameIndex struct {
	mu         sync.Mutex
	started    bool
	cachePath  string
	cached     cacheTable
	cachedEnd  int
	scanned    *names
	scannedEnd int
	nextUnit   int // index in the unit list of the unit at scannedEnd
	complete   bool
	closed     bool           // Close ran: Prefetch stops
	writing    sync.WaitGroup // Prefetch saving the cache, outside mu
	scan       *scanner       // the index's own: the member resolver uses Types.scan
	err        error
}

// UseIndexCache keeps the name index in a file between runs: what a run
// indexed is saved by Close (or at once by BuildIndex) and a later run
// starts from it. Name the file after the vmlinux BUILD-ID, so that a
// rebuilt kernel never gets another kernel's offsets. A missing, damaged
// or foreign file is ignored, never an error.
func (t *Types) UseIndexCache(path string) {
	if t != nil {
		t.idx.mu.Lock()
		t.idx.cachePath = path
		t.idx.mu.Unlock()
	}
}

// Preload reads the index cache, if any, and the first unit header, so
// that a later question starts from them (LoadImage runs it on another
// core while the symbols load). It reports DWARF too damaged to index.
func (t *Types) Preload() error {
	if t == nil {
		return ErrNoDWARF
	}
	t.idx.mu.Lock()
	defer t.idx.mu.Unlock()
	t.startIndex()
	if t.idx.err == nil && t.scan != nil && !t.idx.complete {
		if _, err := t.scan.unitsThrough(0); err != nil {
			t.fastFailed(err) // debug/dwarf may read what the scanner does not
		}
	}
	return t.idx.err
}

// Prefetch indexes units in order until the index covers the first
// fraction of .debug_info (1/fraction of it), the cache file included,
// then saves the index, unless Close came first. Run it on an idle core:
// the kernel's core types (task_struct, mm_struct, rq) are in the units
// of init/, kernel/ and mm/, which the linker puts first, so the first
// questions find their names indexed. A question meanwhile waits at most
// for the unit being indexed, then indexes what it needs itself.
func (t *Types) Prefetch(fraction int) {
	if t == nil || t.scan == nil || fraction < 1 {
		return
	}
	limit := t.scan.infoLen / fraction
	ix := &t.idx
	for {
		ix.mu.Lock()
		t.startIndex()
		if ix.closed || ix.err != nil || ix.complete || ix.scannedEnd >= limit {
			var snap *indexSnapshot
			if !ix.closed {
				snap = t.snapshotIndex()
			}
			if snap != nil {
				ix.writing.Add(1) // Close waits for it
			}
			ix.mu.Unlock()
			if snap != nil {
				ok := snap.write() == nil
				ix.mu.Lock()
				if ok {
					ix.cachedEnd = max(ix.cachedEnd, snap.end)
				}
				ix.mu.Unlock()
				ix.writing.Done()
			}
			return
		}
		t.indexNextUnit()
		ix.mu.Unlock()
	}
}

// startIndex sets the index up on first use, from the cache when it has one.
func (t *Types) startIndex() {
	ix := &t.idx
	if ix.started {
		return
	}
	ix.started = true
	ix.scanned = newNames()
	if t.scan == nil {
		ix.err = t.indexSlow()
		return
	}
	ix.scan = newScanner(t.scan.sections)
	if ix.cachePath != "" {
		t.loadIndexCache()
	}
}

// BuildIndex indexes every unit now (lookups otherwise index as far as
// they need), and saves the index when a cache file is set.
func (t *Types) BuildIndex() error {
	if t == nil {
		return ErrNoDWARF // a vmlinux without DWARF is a nil *Types
	}
	t.idx.mu.Lock()
	defer t.idx.mu.Unlock()
	t.startIndex()
	if t.idx.err == nil && !t.idx.complete {
		t.indexRest()
		t.saveIndexCache()
	}
	return t.idx.err
}

// Lookup finds the entry of a name in one namespace.
func (t *Types) Lookup(kind Kind, name string) (dwarf.Offset, error) {
	if t == nil {
		return 0, ErrNoDWARF
	}
	ix := &t.idx
	ix.mu.Lock()
	defer ix.mu.Unlock()
	t.startIndex()
	// Unit by unit while that is cheap; past an eighth of .debug_info,
	// an eighth at a time on every core (fs/, net/ and lib/ types come
	// late in link order; a name DWARF lacks costs every unit).
	limit, chunk := ix.scannedEnd, 0
	if t.scan != nil {
		chunk = max(1, t.scan.infoLen/8)
		limit += chunk
	}
	for ix.err == nil {
		e, ok := ix.find(kind, name)
		if ok && (e.defined || ix.complete) {
			return e.off, nil
		}
		if ix.complete {
			return 0, fmt.Errorf("%s %q: %w", kind, name, ErrNotFound)
		}
		if ix.scannedEnd < limit {
			t.indexNextUnit()
		} else {
			t.indexUpTo(ix.scannedEnd + chunk)
		}
	}
	return 0, ix.err
}

func (ix *nameIndex) find(kind Kind, name string) (entry, bool) {
	c, okc := ix.cached.find(kind, name)
	s, oks := ix.scanned[kind][name]
	return better(c, s, okc, oks)
}

// indexNextUnit indexes the unit at scannedEnd.
func (t *Types) indexNextUnit() {
	ix := &t.idx
	us, err := ix.scan.unitsThrough(ix.scannedEnd)
	if err != nil {
		t.fastFailed(err)
		return
	}
	if ix.nextUnit >= len(us) || us[ix.nextUnit].start != ix.scannedEnd {
		t.fastFailed(fmt.Errorf("no unit starts at .debug_info %#x", ix.scannedEnd))
		return
	}
	u := us[ix.nextUnit]
	if u.compile {
		if err := scanUnit(ix.scan, u, ix.scanned); err != nil {
			t.fastFailed(err)
			return
		}
	}
	ix.nextUnit++
	ix.scannedEnd = u.end
	ix.complete = u.end >= ix.scan.infoLen
}

// indexRest indexes every unit from scannedEnd on.
func (t *Types) indexRest() { t.indexUpTo(t.idx.scan.infoLen) }

// indexUpTo indexes the units from scannedEnd on that start below end
// (one at least), split into one run of consecutive units per core and
// merged in unit order.
func (t *Types) indexUpTo(end int) {
	ix := &t.idx
	us, err := ix.scan.unitsThrough(end)
	if err != nil {
		t.fastFailed(err)
		return
	}
	if ix.nextUnit >= len(us) || us[ix.nextUnit].start != ix.scannedEnd {
		t.fastFailed(fmt.Errorf("no unit starts at .debug_info %#x", ix.scannedEnd))
		return
	}
	stop := ix.nextUnit + 1
	for stop < len(us) && us[stop].start < end {
		stop++
	}
	rest := us[ix.nextUnit:stop]
	parts := splitUnits(rest, runtime.NumCPU())
	found := make([]*names, len(parts))
	errs := make([]error, len(parts))
	var wg sync.WaitGroup
	for i, p := range parts {
		s := ix.scan
		found[i] = ix.scanned
		if i > 0 {
			found[i], s = newNames(), newScanner(ix.scan.sections)
		}
		wg.Go(func() {
			for _, u := range p {
				if u.compile {
					if err := scanUnit(s, u, found[i]); err != nil {
						errs[i] = err
						return
					}
				}
			}
		})
	}
	wg.Wait()
	for i := range parts {
		if errs[i] != nil {
			t.fastFailed(errs[i])
			return
		}
		if i > 0 {
			ix.scanned.merge(found[i])
		}
	}
	ix.nextUnit = stop
	ix.scannedEnd = rest[len(rest)-1].end
	ix.complete = ix.scannedEnd >= ix.scan.infoLen
}

// splitUnits cuts units into at most n runs of about equal bytes; small
// sections stay in one.
func splitUnits(us []unitHdr, n int) [][]unitHdr {
	if len(us) == 0 {
		return nil
	}
	total := us[len(us)-1].end - us[0].start
	if n < 2 || total < 8<<20 {
		return [][]unitHdr{us}
	}
	var parts [][]unitHdr
	for i := 0; i < n && len(us) > 0; i++ {
		target := us[0].start + total/(n-i)
		if i == n-1 {
			parts = append(parts, us)
			break
		}
		cut := sort.Search(len(us), func(j int) bool { return us[j].end > target })
		cut = max(1, min(cut, len(us)))
		parts = append(parts, us[:cut])
		total -= us[cut-1].end - us[0].start
		us = us[cut:]
	}
	return parts
}

// fastFailed gives up the raw scanner for debug/dwarf's reader, which
// handles every form, over the whole section: it either indexes what the
// scanner could not or names the problem.
func (t *Types) fastFailed(err error) {
	ix := &t.idx
	ix.cached, ix.cachedEnd = cacheTable{}, 0
	ix.scanned = newNames()
	if serr := t.indexSlow(); serr != nil {
		ix.err = fmt.Errorf("DWARF index: %w (fast scan: %v)", serr, err)
	}
}

// indexSlow indexes every unit through debug/dwarf.
func (t *Types) indexSlow() error {
	ix := &t.idx
	d, err := t.dwarfData()
	if err != nil {
		return err
	}
	r := d.Reader()
	for {
		cu, err := r.Next()
		if err != nil {
			return fmt.Errorf("DWARF index: %w", err)
		}
		if cu == nil {
			ix.complete = true
			if t.scan != nil {
				ix.scannedEnd = t.scan.infoLen
			}
			return nil
		}
		if !cu.Children {
			continue
		}
		if err := indexUnit(r, ix.scanned); err != nil {
			return err
		}
	}
}

// indexUnit records the top-level children of the unit the reader is in.
func indexUnit(r *dwarf.Reader, n *names) error {
	for {
		e, err := r.Next()
		if err != nil {
			return fmt.Errorf("DWARF index: %w", err)
		}
		if e == nil || e.Tag == 0 {
			return nil
		}
		if e.Children {
			r.SkipChildren()
		}
		kind, ok := kindOf(e.Tag)
		if !ok {
			continue
		}
		name, _ := e.Val(dwarf.AttrName).(string)
		if name == "" {
			continue
		}
		decl, _ := e.Val(dwarf.AttrDeclaration).(bool)
		addr := e.Val(dwarf.AttrLocation) != nil || e.Val(dwarf.AttrLowpc) != nil
		n.record(kind, []byte(name), e.Offset, decl, addr)
	}
}

// scanUnit records the top-level DIEs of one unit, skipping subtrees by
// DW_AT_sibling where the producer gave one.
func scanUnit(s *scanner, u unitHdr, n *names) error {
	table, err := s.abbrevTable(u.abbrevOff)
	if err != nil {
		return err
	}
	data, err := s.unitBytes(u, true)
	if err != nil {
		return err
	}
	// Offsets below are relative to the unit; DIE offsets are u.start+off.
	c := cursor{b: data, off: u.dies - u.start}
	end := len(data)
	depth := 0
	for c.off < end {
		dieOff := u.start + c.off
		code := c.uleb()
		if code == 0 {
			depth--
			continue
		}
		var ab abbrevEntry
		if code < uint64(len(table)) {
			ab = table[code]
		}
		if ab.tag == 0 {
			return fmt.Errorf("DIE at %#x: abbrev code %d not in table %#x", dieOff, code, u.abbrevOff)
		}
		var d dieInfo
		for _, a := range ab.attrs {
			v, b, err := s.attrValue(&c, uint64(a.form), u.offSize, u.addrSize, u.version)
			if err != nil {
				return fmt.Errorf("DIE at %#x: %w", dieOff, err)
			}
			if depth == 1 {
				if err := d.note(s, a, v, b, u.start); err != nil {
					return fmt.Errorf("DIE at %#x: %w", dieOff, err)
				}
			}
		}
		if depth == 1 && len(d.name) > 0 {
			if kind, ok := kindOf(ab.tag); ok {
				n.record(kind, d.name, dwarf.Offset(dieOff), d.declaration, d.addr)
			}
		}
		if !ab.children {
			continue
		}
		if depth == 1 && d.sibling > dieOff && d.sibling <= u.end {
			c.off = d.sibling - u.start
			continue
		}
		depth++
	}
	return c.err
}
