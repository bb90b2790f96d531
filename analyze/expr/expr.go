// Package expr evaluates the C expressions crash's p, px, pd, eval and
// address arguments take, over a dump: numbers and arithmetic, kernel
// variables and symbols, members (a.b, p->b), array indexes, &, *,
// casts such as (struct task_struct *)ADDR, sizeof, and crash's per-CPU
// suffix (runqueues:0). Types come from the vmlinux DWARF (debug/dwarf's
// Type graph), memory and symbols from an Env, so the package knows
// nothing of dump formats. Parse errors name the position; a wild
// address or an unknown member is an error, never a panic.
package expr

import (
	"debug/dwarf"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/kdumpkit/kdumpkit/analyze/types"
)

// Sentinel errors of this package.
var (
	// ErrSyntax means the text is not an expression of the accepted C
	// subset.
	ErrSyntax = errors.New("syntax error")
	// ErrType means an operator was applied to a value of the wrong type
	// (a member of a non-struct, * of an integer...).
	ErrType = errors.New("type error")
)

// Env is the dump an expression reads.
type Env interface {
	// Variable returns a kernel variable's type and address; a symbol
	// without DWARF has a nil type.
	Variable(name string) (dwarf.Type, uint64, error)
	// PerCPU returns the address of cpu's copy of a per-CPU variable.
	PerCPU(name string, cpu int) (uint64, error)
	// Type resolves a C type name: "struct task_struct", "unsigned
	// long", a typedef.
	Type(name string) (dwarf.Type, error)
	// Read reads kernel virtual memory.
	Read(addr uint64, buf []byte) error
	PtrSize() int
	Order() binary.ByteOrder
}

// Value is an expression's result: an object in memory (LValue, at
// Addr) or a computed scalar (Int). Type nil is a plain integer, as a
// number or a symbol without DWARF is.
type Value struct {
	Type   dwarf.Type
	LValue bool
	Addr   uint64
	Int    uint64
	// Bits is non-zero for a bit field: Int holds its value.
	Bits int64
}

// Size is the byte size of the value's type (a pointer size for a plain
// integer).
func (v Value) Size(env Env) int64 {
	if v.Type == nil {
		return int64(env.PtrSize())
	}
	return types.Strip(v.Type).Size()
}

// Eval parses and evaluates s.
func Eval(s string, env Env) (Value, error) {
	n, err := Parse(s)
	if err != nil {
		return Value{}, err
	}
	return evaluate(n, env)
}

// Bytes returns the value's bytes: read from memory for an object, the
// integer in the dump's byte order for a scalar.
func Bytes(v Value, env Env) ([]byte, error) {
	size := v.Size(env)
	if size <= 0 || size > maxObject {
		return nil, fmt.Errorf("%w: %s has no printable size (%d bytes)", ErrType, typeString(v.Type), size)
	}
	buf := make([]byte, size)
	if v.LValue && v.Bits == 0 {
		if err := env.Read(v.Addr, buf); err != nil {
			return nil, fmt.Errorf("reading %d bytes at %#x: %w", size, v.Addr, err)
		}
		return buf, nil
	}
	var b [8]byte
	env.Order().PutUint64(b[:], v.Int)
	if env.Order() == binary.BigEndian {
		copy(buf, b[8-min(size, 8):])
	} else {
		copy(buf, b[:min(size, 8)])
	}
	return buf, nil
}

// maxObject bounds what an expression may read at once: a struct page
// array asked for by a typo must not allocate gigabytes.
const maxObject = 1 << 24

// Scalar returns the value as an integer: an object's bytes read and
// sign-extended by its type; an error for structs and arrays (whose
// address is not their value in C, except arrays decaying to pointers).
func Scalar(v Value, env Env) (uint64, error) {
	if !v.LValue || v.Bits != 0 {
		return v.Int, nil
	}
	switch t := types.Strip(v.Type).(type) {
	case *dwarf.ArrayType:
		return v.Addr, nil // decays to a pointer to its first element
	case *dwarf.FuncType:
		return v.Addr, nil
	case *dwarf.StructType:
		return 0, fmt.Errorf("%w: %s is not a scalar", ErrType, typeString(t))
	}
	size := v.Size(env)
	if size <= 0 || size > 8 {
		return 0, fmt.Errorf("%w: %s is not a scalar", ErrType, typeString(v.Type))
	}
	buf := make([]byte, size)
	if err := env.Read(v.Addr, buf); err != nil {
		return 0, fmt.Errorf("reading %d bytes at %#x: %w", size, v.Addr, err)
	}
	return extend(buf, v.Type, env.Order()), nil
}

// extend reads an integer of len(buf) bytes, sign-extending signed types.
func extend(buf []byte, t dwarf.Type, bo binary.ByteOrder) uint64 {
	var u uint64
	switch len(buf) {
	case 1:
		u = uint64(buf[0])
	case 2:
		u = uint64(bo.Uint16(buf))
	case 4:
		u = uint64(bo.Uint32(buf))
	case 8:
		u = bo.Uint64(buf)
	}
	if signed(t) && len(buf) < 8 {
		shift := 64 - 8*uint(len(buf))
		u = uint64(int64(u<<shift) >> shift)
	}
	return u
}

func signed(t dwarf.Type) bool {
	switch types.Strip(t).(type) {
	case *dwarf.IntType, *dwarf.CharType:
		return true
	case *dwarf.EnumType:
		return true
	}
	return t == nil
}

func typeString(t dwarf.Type) string {
	if t == nil {
		return "long"
	}
	return t.String()
}
