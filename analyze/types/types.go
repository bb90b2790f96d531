package types

import (
	"bytes"
	"debug/dwarf"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
)

// Sentinel errors of this package.
var (
	// ErrNoDWARF means the vmlinux was built without CONFIG_DEBUG_INFO.
	ErrNoDWARF = errors.New("no DWARF debug info")
	// ErrNotFound means no type, variable or member has the name asked for.
	ErrNotFound = errors.New("not found in DWARF")
	// ErrIndex means a member path indexes an array out of its bounds.
	ErrIndex = errors.New("array index out of bounds")
)

// Kind says which namespace a name lives in: C keeps struct, union and enum
// tags apart from typedef and variable names.
type Kind int

const (
	KindStruct Kind = iota
	KindUnion
	KindEnum
	KindTypedef
	KindBase
	KindVariable
	KindFunction
	numKinds
)

// kindOf maps a DIE tag to the namespace its name lives in.
func kindOf(tag dwarf.Tag) (Kind, bool) {
	switch tag {
	case dwarf.TagStructType:
		return KindStruct, true
	case dwarf.TagUnionType:
		return KindUnion, true
	case dwarf.TagEnumerationType:
		return KindEnum, true
	case dwarf.TagTypedef:
		return KindTypedef, true
	case dwarf.TagBaseType:
		return KindBase, true
	case dwarf.TagVariable:
		return KindVariable, true
	case dwarf.TagSubprogram:
		return KindFunction, true
	}
	return 0, false
}

// Types is the DWARF of one vmlinux with its lazily built name index.
type Types struct {
	data     *dwarf.Data
	dataOnce sync.Once
	dataErr  error
	newData  func() (*dwarf.Data, error)

	idx nameIndex

	mu    sync.Mutex // dwarf.Data's type cache is not safe for concurrent use
	cache map[dwarf.Offset]dwarf.Type

	fields fieldCache
	scan   *scanner // raw sections for the fast index scan; nil: use debug/dwarf

	release func() error // unmaps the file, for Types made by Open
}

// FromELF loads the DWARF sections the type questions need. .debug_line,
// .debug_loc and .debug_ranges are left out: they are a third of a kernel's
// debug info and no type question needs them.
func FromELF(f *elf.File) (*Types, error) {
	is := f.Section(".debug_info")
	if is == nil || is.Type == elf.SHT_NOBITS {
		return nil, ErrNoDWARF
	}
	info, err := is.Data()
	if err != nil {
		return nil, fmt.Errorf("reading .debug_info: %w", err)
	}
	src := infoSource{r: bytes.NewReader(info), n: len(info), all: func() ([]byte, error) { return info, nil }}
	return fromSections(f.ByteOrder, func(name string) ([]byte, error) {
		s := f.Section(name)
		if s == nil || s.Type == elf.SHT_NOBITS {
			return nil, nil
		}
		b, err := s.Data()
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", name, err)
		}
		return b, nil
	}, src)
}

// infoSource is .debug_info: read piecewise by the scanner, whole (all)
// only for debug/dwarf.
type infoSource struct {
	r   io.ReaderAt
	n   int
	all func() ([]byte, error)
}

func fromSections(bo binary.ByteOrder, sec func(name string) ([]byte, error), info infoSource) (*Types, error) {
	abbrev, err := sec(".debug_abbrev")
	if err != nil {
		return nil, err
	}
	str, err := sec(".debug_str")
	if err != nil {
		return nil, err
	}
	// DWARF 5 keeps some strings in .debug_line_str and offsets in
	// .debug_str_offsets; add them when present.
	extra := map[string][]byte{}
	for _, name := range []string{".debug_line_str", ".debug_str_offsets", ".debug_addr", ".debug_rnglists"} {
		b, err := sec(name)
		if err != nil {
			return nil, err
		}
		if b != nil {
			extra[name] = b
		}
	}
	t := &Types{cache: map[dwarf.Offset]dwarf.Type{}}
	t.scan = newScanner(&sections{infoR: info.r, infoLen: info.n, abbrev: abbrev, str: str, bo: bo})
	// debug/dwarf parses every unit's abbreviations up front (55 MB for a
	// kernel) and wants all of .debug_info in memory; only struct printing
	// and whatis need it, so it waits.
	t.newData = func() (*dwarf.Data, error) {
		whole, err := info.all()
		if err != nil {
			return nil, err
		}
		d, err := dwarf.New(abbrev, nil, nil, whole, nil, nil, nil, str)
		if err != nil {
			return nil, fmt.Errorf("parsing DWARF: %w", err)
		}
		for name, b := range extra {
			if err := d.AddSection(name, b); err != nil {
				return nil, fmt.Errorf("adding %s: %w", name, err)
			}
		}
		return d, nil
	}
	return t, nil
}

// dwarfData returns debug/dwarf's view, parsing it on first use.
func (t *Types) dwarfData() (*dwarf.Data, error) {
	t.dataOnce.Do(func() {
		if t.data == nil && t.newData != nil {
			t.data, t.dataErr = t.newData()
		}
	})
	if t.data == nil && t.dataErr == nil {
		return nil, ErrNoDWARF
	}
	return t.data, t.dataErr
}

// New wraps already parsed DWARF (tests build it from synthetic ELF files).
func New(d *dwarf.Data) *Types {
	return &Types{data: d, cache: map[dwarf.Offset]dwarf.Type{}}
}

func (k Kind) String() string {
	return [...]string{"struct", "union", "enum", "typedef", "type", "variable", "function"}[k]
}

// Type reads the type at a DWARF offset.
func (t *Types) Type(off dwarf.Offset) (dwarf.Type, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if ty, ok := t.cache[off]; ok {
		return ty, nil
	}
	d, err := t.dwarfData()
	if err != nil {
		return nil, err
	}
	ty, err := d.Type(off)
	if err != nil {
		return nil, fmt.Errorf("DWARF type at %#x: %w", off, err)
	}
	t.cache[off] = ty
	return ty, nil
}

// Named resolves a C type name: "struct task_struct", "union x", "enum y",
// a typedef or base type name, or a bare struct tag (crash accepts
// "task_struct" for "struct task_struct").
func (t *Types) Named(name string) (dwarf.Type, error) {
	name = strings.TrimSpace(name)
	for prefix, kind := range map[string]Kind{"struct ": KindStruct, "union ": KindUnion, "enum ": KindEnum} {
		if rest, ok := strings.CutPrefix(name, prefix); ok {
			off, err := t.Lookup(kind, strings.TrimSpace(rest))
			if err != nil {
				return nil, err
			}
			return t.Type(off)
		}
	}
	for _, kind := range []Kind{KindTypedef, KindBase, KindStruct, KindUnion, KindEnum} {
		if off, err := t.Lookup(kind, name); err == nil {
			return t.Type(off)
		} else if !errors.Is(err, ErrNotFound) {
			return nil, err
		}
	}
	return nil, fmt.Errorf("type %q: %w", name, ErrNotFound)
}

// Variable returns the type of a global variable.
func (t *Types) Variable(name string) (dwarf.Type, error) {
	off, err := t.Lookup(KindVariable, name)
	if err != nil {
		return nil, err
	}
	return t.typeAttr(off)
}

// Function returns the type of a function (a *dwarf.FuncType).
func (t *Types) Function(name string) (*dwarf.FuncType, error) {
	off, err := t.Lookup(KindFunction, name)
	if err != nil {
		return nil, err
	}
	d, err := t.dwarfData()
	if err != nil {
		return nil, err
	}
	r := d.Reader()
	r.Seek(off)
	e, err := r.Next()
	if err != nil || e == nil {
		return nil, fmt.Errorf("function %q at %#x: %v", name, off, err)
	}
	ft := &dwarf.FuncType{}
	if ro, ok := e.Val(dwarf.AttrType).(dwarf.Offset); ok {
		if ft.ReturnType, err = t.Type(ro); err != nil {
			return nil, err
		}
	} else {
		ft.ReturnType = &dwarf.VoidType{}
	}
	if !e.Children {
		return ft, nil
	}
	for {
		c, err := r.Next()
		if err != nil || c == nil || c.Tag == 0 {
			return ft, err
		}
		if c.Children {
			r.SkipChildren()
		}
		switch c.Tag {
		case dwarf.TagFormalParameter:
			po, _ := c.Val(dwarf.AttrType).(dwarf.Offset)
			pt, err := t.Type(po)
			if err != nil {
				return nil, err
			}
			ft.ParamType = append(ft.ParamType, pt)
		case dwarf.TagUnspecifiedParameters:
			ft.ParamType = append(ft.ParamType, &dwarf.DotDotDotType{})
		}
	}
}

func (t *Types) typeAttr(off dwarf.Offset) (dwarf.Type, error) {
	d, err := t.dwarfData()
	if err != nil {
		return nil, err
	}
	r := d.Reader()
	r.Seek(off)
	e, err := r.Next()
	if err != nil || e == nil {
		return nil, fmt.Errorf("DWARF entry at %#x: %v", off, err)
	}
	to, ok := e.Val(dwarf.AttrType).(dwarf.Offset)
	if !ok {
		return nil, fmt.Errorf("DWARF entry at %#x has no type", off)
	}
	return t.Type(to)
}
