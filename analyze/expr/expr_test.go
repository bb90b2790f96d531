package expr

import (
	"debug/dwarf"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// fakeEnv is a little-endian 32-bit kernel with one struct variable:
// struct node { int id; struct node *next; char name[8]; } head at 0x1000,
// whose next points to a second node at 0x2000.
type fakeEnv struct {
	mem  map[uint64]byte
	node *dwarf.StructType
}

func newFakeEnv() *fakeEnv {
	intT := &dwarf.IntType{BasicType: dwarf.BasicType{CommonType: dwarf.CommonType{ByteSize: 4, Name: "int"}}}
	charT := &dwarf.CharType{BasicType: dwarf.BasicType{CommonType: dwarf.CommonType{ByteSize: 1, Name: "char"}}}
	node := &dwarf.StructType{CommonType: dwarf.CommonType{ByteSize: 16}, StructName: "node", Kind: "struct"}
	ptr := &dwarf.PtrType{CommonType: dwarf.CommonType{ByteSize: 4}, Type: node}
	arr := &dwarf.ArrayType{CommonType: dwarf.CommonType{ByteSize: 8}, Type: charT, Count: 8}
	node.Field = []*dwarf.StructField{{Name: "id", Type: intT, ByteOffset: 0}, {Name: "next", Type: ptr, ByteOffset: 4}, {Name: "name", Type: arr, ByteOffset: 8}}
	e := &fakeEnv{mem: map[uint64]byte{}, node: node}
	e.put(0x1000, 7, 0x2000, "head")
	e.put(0x2000, -3, 0, "tail")
	return e
}

func (e *fakeEnv) put(at uint64, id int32, next uint32, name string) {
	b := make([]byte, 16)
	binary.LittleEndian.PutUint32(b, uint32(id))
	binary.LittleEndian.PutUint32(b[4:], next)
	copy(b[8:], name)
	for i, c := range b {
		e.mem[at+uint64(i)] = c
	}
}

func (e *fakeEnv) Variable(name string) (dwarf.Type, uint64, error) {
	switch name {
	case "head":
		return e.node, 0x1000, nil
	case "plain":
		return nil, 0x3000, nil
	}
	return nil, 0, fmt.Errorf("no symbol %q", name)
}
func (e *fakeEnv) PerCPU(name string, cpu int) (uint64, error) {
	if name != "head" {
		return 0, fmt.Errorf("%s is not per-CPU", name)
	}
	return 0x1000 + uint64(cpu)*0x1000, nil
}
func (e *fakeEnv) Type(name string) (dwarf.Type, error) {
	switch name {
	case "struct node":
		return e.node, nil
	case "int":
		return e.node.Field[0].Type, nil
	case "char":
		return e.node.Field[2].Type.(*dwarf.ArrayType).Type, nil
	}
	return nil, fmt.Errorf("no type %q", name)
}
func (e *fakeEnv) Read(addr uint64, buf []byte) error {
	for i := range buf {
		c, ok := e.mem[addr+uint64(i)]
		if !ok {
			return fmt.Errorf("address %#x not in the dump", addr+uint64(i))
		}
		buf[i] = c
	}
	return nil
}
func (e *fakeEnv) PtrSize() int            { return 4 }
func (e *fakeEnv) Order() binary.ByteOrder { return binary.LittleEndian }

func TestEval(t *testing.T) {
	env := newFakeEnv()
	for text, want := range map[string]uint64{
		"1+2*3":                           7,
		"(1+2)*3":                         9,
		"0x10 | 1":                        17,
		"1 << 20":                         1 << 20,
		"-1 >> 60":                        15,
		"head.id":                         7,
		"head.next->id":                   uint64(^uint64(2)), // -3
		"(*head.next).id":                 uint64(^uint64(2)),
		"&head":                           0x1000,
		"&head.next":                      0x1004,
		"head.name[1]":                    'e',
		"sizeof(struct node)":             16,
		"sizeof head":                     16,
		"((struct node *)0x2000)->id + 3": 0,
		"(struct node *)0x1000 + 1":       0x1010,
		"head:1.id":                       uint64(^uint64(2)),
		"plain + 4":                       0x3004,
		"(char)0x141":                     0x41,
		"!0 && 3 > 2":                     1,
		"head.id == 7 ? 1 : 0":            0, // not supported: must be an error (checked below)
	} {
		v, err := Eval(text, env)
		if strings.Contains(text, "?") {
			if err == nil {
				t.Errorf("%s: the ?: operator is not supported but gave %+v", text, v)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", text, err)
			continue
		}
		got, err := Scalar(v, env)
		if err != nil || got != want {
			t.Errorf("%s = %#x (%v), want %#x", text, got, err, want)
		}
	}
}

func TestEvalErrors(t *testing.T) {
	env := newFakeEnv()
	for text, want := range map[string]error{
		"head.nosuch":  ErrType,
		"head.id.x":    ErrType,
		"*head.id":     ErrType,
		"head.name[8]": ErrType,
		"1/0":          ErrType,
		"((1)":         ErrSyntax,
		"1 +":          ErrSyntax,
		"head:":        ErrSyntax,
		"@":            ErrSyntax,
		strings.Repeat("(", 1000) + "1" + strings.Repeat(")", 1000): ErrSyntax,
	} {
		_, err := Eval(text, env)
		if !errors.Is(err, want) {
			t.Errorf("%.40s: err = %v, want %v", text, err, want)
		}
	}
	v, err := Eval("*(int *)0x9000", env)
	if err == nil {
		_, err = Scalar(v, env)
	}
	if err == nil || !strings.Contains(err.Error(), "0x9000") {
		t.Errorf("a wild read: %v, want an error naming 0x9000", err)
	}
}

// FuzzEval: any text gives a value or an error, never a panic, and an
// error names what was wrong.
func FuzzEval(f *testing.F) {
	for _, s := range []string{"1+2", "head.next->name[3]", "(struct node *)0x2000", "&head", "sizeof(int)", "head:3.id", "-~!1", "((char)1 << 3) % 0"} {
		f.Add(s)
	}
	env := newFakeEnv()
	f.Fuzz(func(t *testing.T, s string) {
		v, err := Eval(s, env)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		_, _ = Scalar(v, env)
		_, _ = Bytes(v, env)
	})
}
