package types

import (
	"bufio"
	"debug/dwarf"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

const cacheMagic = "kdumpkit dwarf name index v1"

// UseIndexCache keeps the name index in a file between runs. Name the file
// after the vmlinux BUILD-ID, so that a rebuilt kernel never gets another
// kernel's offsets. A missing or damaged file is rebuilt, never an error.
func (t *Types) UseIndexCache(path string) {
	if t != nil {
		t.cachePath = path
	}
}

func (t *Types) loadIndexCache() bool {
	f, err := os.Open(t.cachePath)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	if !sc.Scan() || sc.Text() != cacheMagic {
		return false
	}
	var idx [numKinds]map[string]dwarf.Offset
	for k := range idx {
		idx[k] = make(map[string]dwarf.Offset)
	}
	n := 0
	for sc.Scan() {
		kind, rest, ok1 := strings.Cut(sc.Text(), "\t")
		off, name, ok2 := strings.Cut(rest, "\t")
		k, err1 := strconv.Atoi(kind)
		o, err2 := strconv.ParseUint(off, 16, 32)
		if !ok1 || !ok2 || err1 != nil || err2 != nil || k < 0 || k >= int(numKinds) {
			return false
		}
		idx[k][name] = dwarf.Offset(o)
		n++
	}
	if sc.Err() != nil || n == 0 {
		return false
	}
	t.index = idx
	return true
}

func (t *Types) saveIndexCache() error {
	if err := os.MkdirAll(filepath.Dir(t.cachePath), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(t.cachePath), ".index-*")
	if err != nil {
		return err
	}
	w := bufio.NewWriter(tmp)
	fmt.Fprintln(w, cacheMagic)
	for k, m := range t.index {
		for name, off := range m {
			fmt.Fprintf(w, "%d\t%x\t%s\n", k, off, name)
		}
	}
	err = w.Flush()
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), t.cachePath) // never a half-written index
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}
