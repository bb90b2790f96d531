// Package vmcoreinfo parses the VMCOREINFO note the kernel exports for dump
// tools (kernel/crash_core.c, Documentation/admin-guide/kdump/vmcoreinfo.rst):
// KEY=VALUE lines such as OSRELEASE, BUILD-ID, PAGESIZE, SYMBOL(name)=hex,
// OFFSET(struct.member)=dec, SIZE(type)=dec, LENGTH(array)=dec,
// NUMBER(name)=dec, CONFIG_X=y, KERNELOFFSET=hex and CRASHTIME=dec.
package vmcoreinfo

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrMissing means VMCOREINFO lacks a key a reader needs.
var ErrMissing = errors.New("not in VMCOREINFO")

// Info is a parsed VMCOREINFO note.
type Info struct {
	m map[string]string
}

// Parse reads VMCOREINFO text. Lines without '=' are skipped (the note is
// padded with NULs); a key given twice keeps its last value, as the
// kernel's own append order means the later one is newer.
func Parse(data []byte) (*Info, error) {
	data = bytes.TrimRight(data, "\x00")
	if len(data) == 0 {
		return nil, fmt.Errorf("VMCOREINFO is empty")
	}
	i := &Info{m: map[string]string{}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 4096), 1<<20)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if ok && k != "" {
			i.m[k] = strings.TrimSpace(v)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("VMCOREINFO: %w", err)
	}
	if len(i.m) == 0 {
		return nil, fmt.Errorf("VMCOREINFO has no KEY=VALUE lines")
	}
	return i, nil
}

// Map returns a copy of every key and value.
func (i *Info) Map() map[string]string {
	out := make(map[string]string, len(i.m))
	for k, v := range i.m {
		out[k] = v
	}
	return out
}

// Get returns the raw value of a key.
func (i *Info) Get(key string) (string, bool) {
	v, ok := i.m[key]
	return v, ok
}

func (i *Info) num(key string, base int) (uint64, error) {
	v, ok := i.m[key]
	if !ok {
		return 0, fmt.Errorf("%s: %w", key, ErrMissing)
	}
	// A 0x prefix means hex whatever the key's usual base: arm64 writes
	// NUMBER(kimage_voffset), NUMBER(PHYS_OFFSET) and NUMBER(KERNELPACMASK)
	// as 0x%llx (arch/arm64/kernel/crash_core.c), most NUMBER()s as %d.
	if h, ok := strings.CutPrefix(v, "0x"); ok {
		v, base = h, 16
	}
	n, err := strconv.ParseUint(v, base, 64)
	if err != nil {
		sn, serr := strconv.ParseInt(v, base, 64)
		if serr != nil {
			return 0, fmt.Errorf("VMCOREINFO %s=%q: want a base-%d number", key, v, base)
		}
		n = uint64(sn)
	}
	return n, nil
}

// Symbol is SYMBOL(name): a kernel virtual address.
func (i *Info) Symbol(name string) (uint64, error) { return i.num("SYMBOL("+name+")", 16) }

// Offset is OFFSET(typ.member): a member's byte offset.
func (i *Info) Offset(typ, member string) (uint64, error) {
	return i.num("OFFSET("+typ+"."+member+")", 10)
}

// Size is SIZE(typ) in bytes.
func (i *Info) Size(typ string) (uint64, error) { return i.num("SIZE("+typ+")", 10) }

// Length is LENGTH(name): an array's element count.
func (i *Info) Length(name string) (uint64, error) { return i.num("LENGTH("+name+")", 10) }

// Number is NUMBER(name), a constant the kernel exports (it may be
// negative; the bits are returned as they are).
func (i *Info) Number(name string) (uint64, error) { return i.num("NUMBER("+name+")", 10) }

// Config reports whether CONFIG_name=y is listed.
func (i *Info) Config(name string) bool { return i.m["CONFIG_"+name] == "y" }

// OSRelease is the kernel release (uname -r).
func (i *Info) OSRelease() string { return i.m["OSRELEASE"] }

// BuildID is the kernel's GNU build ID in hex, "" when absent (< 5.9).
func (i *Info) BuildID() string { return i.m["BUILD-ID"] }

// PageSize is PAGESIZE, 4096 when absent.
func (i *Info) PageSize() uint64 {
	if n, err := i.num("PAGESIZE", 10); err == nil && n != 0 {
		return n
	}
	return 4096
}

// KernelOffset is the KASLR offset (KERNELOFFSET, hex), 0 when absent.
func (i *Info) KernelOffset() uint64 {
	n, _ := i.num("KERNELOFFSET", 16)
	return n
}

// The arm64 layout values (arch/arm64/kernel/crash_core.c, 6.1–6.12):
// what translation and unwinding need beyond the symbols.

// VABits is NUMBER(VA_BITS): the kernel's virtual address width.
func (i *Info) VABits() (uint64, error) { return i.Number("VA_BITS") }

// KimageVoffset is NUMBER(kimage_voffset): kernel image VA − PA.
func (i *Info) KimageVoffset() (uint64, error) { return i.Number("kimage_voffset") }

// PhysOffset is NUMBER(PHYS_OFFSET): the physical address of the start of
// RAM, the linear map's base.
func (i *Info) PhysOffset() (uint64, error) { return i.Number("PHYS_OFFSET") }

// KernelPACMask is NUMBER(KERNELPACMASK): the bits pointer authentication
// keeps in kernel return addresses, to strip before symbol lookup; ok is
// false on a kernel without PAC.
func (i *Info) KernelPACMask() (mask uint64, ok bool) {
	m, err := i.Number("KERNELPACMASK")
	return m, err == nil
}

// CrashTime is CRASHTIME: seconds since the epoch when the kernel crashed.
func (i *Info) CrashTime() (int64, error) {
	n, err := i.num("CRASHTIME", 10)
	return int64(n), err
}
