package expr

import (
	"debug/dwarf"
	"fmt"
	"strings"

	"github.com/kdumpkit/kdumpkit/analyze/types"
)

func evaluate(n Node, env Env) (Value, error) {
	switch n := n.(type) {
	case numNode:
		return Value{Int: n.v}, nil
	case identNode:
		return ident(n, env)
	case unaryNode:
		return unary(n, env)
	case binaryNode:
		return binaryOp(n, env)
	case memberNode:
		return member(n, env)
	case indexNode:
		return index(n, env)
	case castNode:
		return cast(n, env)
	case sizeofNode:
		return sizeof(n, env)
	}
	return Value{}, fmt.Errorf("%w: unknown node %T", ErrSyntax, n)
}

func ident(n identNode, env Env) (Value, error) {
	t, addr, err := env.Variable(n.name)
	if err != nil {
		return Value{}, err
	}
	if n.cpu >= 0 {
		if addr, err = env.PerCPU(n.name, n.cpu); err != nil {
			return Value{}, err
		}
	}
	if t == nil {
		// A symbol without DWARF: its address, as crash's eval reads it.
		return Value{Int: addr}, nil
	}
	return Value{Type: t, LValue: true, Addr: addr}, nil
}

// pointee returns the type a pointer or array value points at, and the
// address it points to.
func pointee(v Value, env Env) (dwarf.Type, uint64, error) {
	switch t := types.Strip(v.Type).(type) {
	case *dwarf.PtrType:
		p, err := Scalar(v, env)
		if err != nil {
			return nil, 0, err
		}
		return t.Type, p, nil
	case *dwarf.ArrayType:
		if !v.LValue {
			return nil, 0, fmt.Errorf("%w: array without an address", ErrType)
		}
		return t.Type, v.Addr, nil
	}
	return nil, 0, fmt.Errorf("%w: %s is not a pointer", ErrType, typeString(v.Type))
}

func unary(n unaryNode, env Env) (Value, error) {
	x, err := evaluate(n.x, env)
	if err != nil {
		return Value{}, err
	}
	switch n.op {
	case "*":
		t, p, err := pointee(x, env)
		if err != nil {
			return Value{}, err
		}
		if t == nil {
			return Value{}, fmt.Errorf("%w: cannot dereference a void pointer", ErrType)
		}
		return Value{Type: t, LValue: true, Addr: p}, nil
	case "&":
		if !x.LValue || x.Bits != 0 {
			return Value{}, fmt.Errorf("%w: & of a value that is not in memory", ErrType)
		}
		return Value{Type: &dwarf.PtrType{CommonType: dwarf.CommonType{ByteSize: int64(env.PtrSize())}, Type: x.Type}, Int: x.Addr}, nil
	}
	v, err := Scalar(x, env)
	if err != nil {
		return Value{}, err
	}
	switch n.op {
	case "-":
		v = -v
	case "~":
		v = ^v
	case "!":
		v = boolInt(v == 0)
	}
	return Value{Int: v}, nil
}

func boolInt(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

func binaryOp(n binaryNode, env Env) (Value, error) {
	xv, err := evaluate(n.x, env)
	if err != nil {
		return Value{}, err
	}
	yv, err := evaluate(n.y, env)
	if err != nil {
		return Value{}, err
	}
	x, err := Scalar(xv, env)
	if err != nil {
		return Value{}, err
	}
	y, err := Scalar(yv, env)
	if err != nil {
		return Value{}, err
	}
	// Pointer arithmetic scales by the pointee's size, as C does.
	if n.op == "+" || n.op == "-" {
		if t, ok := ptrTarget(xv); ok {
			if u, isPtr := ptrTarget(yv); n.op == "-" && isPtr {
				if typeString(t) != typeString(u) {
					return Value{}, fmt.Errorf("%w: subtracting pointers to %s and %s", ErrType, typeString(t), typeString(u))
				}
				if size := elemSize(t); size > 0 {
					return Value{Int: uint64(int64(x-y) / size)}, nil
				}
			}
			return Value{Type: ptrTo(t, env), Int: offset(x, y, elemSize(t), n.op)}, nil
		}
		if t, ok := ptrTarget(yv); ok && n.op == "+" {
			return Value{Type: ptrTo(t, env), Int: offset(y, x, elemSize(t), "+")}, nil
		}
	}
	sx, sy := int64(x), int64(y)
	var r uint64
	switch n.op {
	case "+":
		r = x + y
	case "-":
		r = x - y
	case "*":
		r = x * y
	case "/", "%":
		if y == 0 {
			return Value{}, fmt.Errorf("%w: division by zero", ErrType)
		}
		if n.op == "/" {
			r = x / y
		} else {
			r = x % y
		}
	case "<<":
		r = x << (y & 63)
	case ">>":
		r = x >> (y & 63)
	case "&":
		r = x & y
	case "|":
		r = x | y
	case "^":
		r = x ^ y
	case "&&":
		r = boolInt(x != 0 && y != 0)
	case "||":
		r = boolInt(x != 0 || y != 0)
	case "==":
		r = boolInt(x == y)
	case "!=":
		r = boolInt(x != y)
	case "<":
		r = boolInt(sx < sy)
	case ">":
		r = boolInt(sx > sy)
	case "<=":
		r = boolInt(sx <= sy)
	case ">=":
		r = boolInt(sx >= sy)
	}
	return Value{Int: r}, nil
}

func offset(p, n uint64, size int64, op string) uint64 {
	if size <= 0 {
		size = 1 // void * arithmetic, as gcc allows
	}
	if op == "-" {
		return p - n*uint64(size)
	}
	return p + n*uint64(size)
}

// ptrTarget returns the pointee of a pointer or array value.
func ptrTarget(v Value) (dwarf.Type, bool) {
	switch t := types.Strip(v.Type).(type) {
	case *dwarf.PtrType:
		return t.Type, true
	case *dwarf.ArrayType:
		return t.Type, v.LValue
	}
	return nil, false
}

func elemSize(t dwarf.Type) int64 {
	if t == nil {
		return 1
	}
	return types.Strip(t).Size()
}

func ptrTo(t dwarf.Type, env Env) dwarf.Type {
	return &dwarf.PtrType{CommonType: dwarf.CommonType{ByteSize: int64(env.PtrSize())}, Type: t}
}

func member(n memberNode, env Env) (Value, error) {
	x, err := evaluate(n.x, env)
	if err != nil {
		return Value{}, err
	}
	if n.arrow {
		t, p, err := pointee(x, env)
		if err != nil {
			return Value{}, fmt.Errorf("->%s: %w", n.name, err)
		}
		x = Value{Type: t, LValue: true, Addr: p}
	}
	st, ok := types.Strip(x.Type).(*dwarf.StructType)
	if !ok || !x.LValue {
		return Value{}, fmt.Errorf("%w: .%s of %s, which is not a struct or union in memory", ErrType, n.name, typeString(x.Type))
	}
	f, off, ok := findField(st, n.name, 0)
	if !ok {
		return Value{}, fmt.Errorf("%w: %s has no member %q", ErrType, typeString(x.Type), n.name)
	}
	v := Value{Type: f.Type, LValue: true, Addr: x.Addr + uint64(off)}
	if f.BitSize > 0 {
		size := f.ByteSize
		if size <= 0 {
			size = types.Strip(f.Type).Size()
		}
		buf := make([]byte, size)
		if size <= 0 || size > 8 {
			return Value{}, fmt.Errorf("%w: bit field %s of %d bytes", ErrType, n.name, size)
		}
		if err := env.Read(v.Addr, buf); err != nil {
			return Value{}, err
		}
		raw := extend(buf, nil, env.Order()) & (1<<(8*uint(size)) - 1)
		shift := f.DataBitOffset - off*8
		if f.DataBitOffset == 0 && f.BitOffset != 0 {
			shift = size*8 - f.BitOffset - f.BitSize
		}
		v.Int = raw >> uint(shift&63) & (1<<uint(f.BitSize) - 1)
		v.Bits = f.BitSize
	}
	return v, nil
}

// findField finds name among st's members and those of its anonymous
// members, returning the byte offset from st's start.
func findField(st *dwarf.StructType, name string, depth int) (*dwarf.StructField, int64, bool) {
	if depth > 16 {
		return nil, 0, false
	}
	for _, f := range st.Field {
		if f.Name == name {
			return f, f.ByteOffset, true
		}
	}
	for _, f := range st.Field {
		if inner, ok := types.Strip(f.Type).(*dwarf.StructType); ok && f.Name == "" {
			if g, off, ok := findField(inner, name, depth+1); ok {
				return g, f.ByteOffset + off, true
			}
		}
	}
	return nil, 0, false
}

func index(n indexNode, env Env) (Value, error) {
	x, err := evaluate(n.x, env)
	if err != nil {
		return Value{}, err
	}
	iv, err := evaluate(n.i, env)
	if err != nil {
		return Value{}, err
	}
	i, err := Scalar(iv, env)
	if err != nil {
		return Value{}, err
	}
	if at, ok := types.Strip(x.Type).(*dwarf.ArrayType); ok && at.Count > 0 && int64(i) >= at.Count {
		return Value{}, fmt.Errorf("%w: index %d past the end of %s", ErrType, int64(i), typeString(x.Type))
	}
	t, p, err := pointee(x, env)
	if err != nil {
		return Value{}, err
	}
	if t == nil {
		return Value{}, fmt.Errorf("%w: cannot index a void pointer", ErrType)
	}
	return Value{Type: t, LValue: true, Addr: p + i*uint64(elemSize(t))}, nil
}

func resolveType(tn typeName, env Env) (dwarf.Type, error) {
	var t dwarf.Type
	base := strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(tn.base, "const "), "volatile "))
	if base == "void" {
		t = nil
	} else {
		var err error
		if t, err = env.Type(base); err != nil {
			return nil, err
		}
	}
	for i := 0; i < tn.stars; i++ {
		t = ptrTo(t, env)
	}
	if t == nil {
		return nil, fmt.Errorf("%w: a void value", ErrType)
	}
	return t, nil
}

func cast(n castNode, env Env) (Value, error) {
	t, err := resolveType(n.typ, env)
	if err != nil {
		return Value{}, err
	}
	x, err := evaluate(n.x, env)
	if err != nil {
		return Value{}, err
	}
	switch types.Strip(t).(type) {
	case *dwarf.StructType, *dwarf.ArrayType:
		// (struct foo)x reinterprets the object in memory, as gdb does.
		if !x.LValue {
			return Value{}, fmt.Errorf("%w: cast of a value not in memory to %s", ErrType, typeString(t))
		}
		return Value{Type: t, LValue: true, Addr: x.Addr}, nil
	}
	v, err := Scalar(x, env)
	if err != nil {
		return Value{}, err
	}
	if size := types.Strip(t).Size(); size > 0 && size < 8 {
		v &= 1<<(8*uint(size)) - 1
		if signed(t) {
			shift := 64 - 8*uint(size)
			v = uint64(int64(v<<shift) >> shift)
		}
	}
	return Value{Type: t, Int: v}, nil
}

func sizeof(n sizeofNode, env Env) (Value, error) {
	if n.typ != nil {
		t, err := resolveType(*n.typ, env)
		if err != nil {
			return Value{}, err
		}
		return Value{Int: uint64(types.Strip(t).Size())}, nil
	}
	x, err := evaluate(n.x, env)
	if err != nil {
		return Value{}, err
	}
	return Value{Int: uint64(x.Size(env))}, nil
}
