package commands

// A minimal reader of the reference ARM32 vmcore for this package's tests,
// independent of analyze/dump and analyze/arch so that the task helpers are
// checked against a second implementation of the address translation.

import (
	"bufio"
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/kdumpkit/kdumpkit/analyze/kernel"
)

type refCore struct {
	f          *os.File
	loads      []*elf.Prog
	pageOffset uint64
	physOffset uint64
	pgd        uint64 // physical address of swapper_pg_dir
	lowmem     uint64 // size of the linear map: RAM from physOffset up
	info       map[string]string
	cpus       []kernel.CPUState
}

func (c *refCore) readPhys(pa uint64, buf []byte) error {
	for _, p := range c.loads {
		if pa >= p.Paddr && pa+uint64(len(buf)) <= p.Paddr+p.Filesz {
			_, err := c.f.ReadAt(buf, int64(p.Off+pa-p.Paddr))
			return err
		}
	}
	return fmt.Errorf("physical %#x not in the dump", pa)
}

func (c *refCore) translate(va uint64) (uint64, error) {
	if va >= c.pageOffset && va < c.pageOffset+c.lowmem {
		return va - c.pageOffset + c.physOffset, nil
	}
	var b [4]byte
	if err := c.readPhys(c.pgd+(va>>20)*4, b[:]); err != nil {
		return 0, err
	}
	l1 := uint64(binary.LittleEndian.Uint32(b[:]))
	switch l1 & 3 {
	case 2: // section
		return l1&0xfff00000 | va&0xfffff, nil
	case 1: // coarse page table
		if err := c.readPhys(l1&0xfffffc00+((va>>12)&0xff)*4, b[:]); err != nil {
			return 0, err
		}
		l2 := uint64(binary.LittleEndian.Uint32(b[:]))
		switch {
		case l2&2 != 0:
			return l2&0xfffff000 | va&0xfff, nil
		case l2&3 == 1:
			return l2&0xffff0000 | va&0xffff, nil
		}
	}
	return 0, fmt.Errorf("virtual %#x not mapped", va)
}

func (c *refCore) ReadVirt(addr uint64, buf []byte) error {
	for len(buf) > 0 {
		n := min(len(buf), int(0x1000-addr&0xfff))
		pa, err := c.translate(addr)
		if err != nil {
			return err
		}
		if err := c.readPhys(pa, buf[:n]); err != nil {
			return err
		}
		addr += uint64(n)
		buf = buf[n:]
	}
	return nil
}

func openRefCore(t testing.TB, path string) *refCore {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	ef, err := elf.NewFile(f)
	if err != nil {
		t.Fatal(err)
	}
	c := &refCore{f: f, info: map[string]string{}, pageOffset: ^uint64(0), physOffset: ^uint64(0)}
	for _, p := range ef.Progs {
		switch p.Type {
		case elf.PT_LOAD:
			c.loads = append(c.loads, p)
			c.pageOffset = min(c.pageOffset, p.Vaddr)
			c.physOffset = min(c.physOffset, p.Paddr)
		case elf.PT_NOTE:
			data := make([]byte, p.Filesz)
			if _, err := f.ReadAt(data, int64(p.Off)); err != nil {
				t.Fatal(err)
			}
			c.notes(data)
		}
	}
	for _, p := range c.loads {
		c.lowmem = max(c.lowmem, p.Paddr+p.Memsz-c.physOffset)
	}
	swapper, err := strconv.ParseUint(c.info["SYMBOL(swapper_pg_dir)"], 16, 64)
	if err != nil {
		t.Fatalf("VMCOREINFO swapper_pg_dir: %v", err)
	}
	c.pgd = swapper - c.pageOffset + c.physOffset
	return c
}

func (c *refCore) notes(data []byte) {
	le := binary.LittleEndian
	for off := 0; off+12 <= len(data); {
		nsz, dsz, typ := int(le.Uint32(data[off:])), int(le.Uint32(data[off+4:])), le.Uint32(data[off+8:])
		name := string(bytes.TrimRight(data[off+12:off+12+nsz], "\x00"))
		d := data[off+12+(nsz+3)&^3:]
		d = d[:dsz]
		switch {
		case name == "CORE" && typ == 1: // NT_PRSTATUS: pid at 24, pr_reg at 72
			st := kernel.CPUState{CPU: len(c.cpus), PID: int(le.Uint32(d[24:]))}
			for i := 0; i < 18; i++ {
				st.Regs = append(st.Regs, uint64(le.Uint32(d[72+4*i:])))
			}
			c.cpus = append(c.cpus, st)
		case name == "VMCOREINFO":
			sc := bufio.NewScanner(bytes.NewReader(d))
			for sc.Scan() {
				if k, v, ok := strings.Cut(sc.Text(), "="); ok {
					c.info[k] = v
				}
			}
		}
		off += 12 + (nsz+3)&^3 + (dsz+3)&^3
	}
}

func (c *refCore) Path() string                  { return "vmcore" }
func (c *refCore) Machine() elf.Machine          { return elf.EM_ARM }
func (c *refCore) ByteOrder() binary.ByteOrder   { return binary.LittleEndian }
func (c *refCore) PtrSize() int                  { return 4 }
func (c *refCore) CPUs() []kernel.CPUState       { return c.cpus }
func (c *refCore) VMCOREINFO() map[string]string { return c.info }
func (c *refCore) RAMBytes() uint64              { return c.lowmem }

func referenceDir(t testing.TB) string {
	dir := os.Getenv("KDUMPKIT_REFERENCE_DIR")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".cache", "kdk-reference")
	}
	for _, n := range []string{"vmlinux", "vmcore", "console.log"} {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			t.Skipf("reference dump incomplete (%v); make it with /work/shared/tools/reference-vmcore.sh", err)
		}
	}
	return dir
}

// openReference builds a Session on the reference dump, or skips.
func openReference(t testing.TB) (*Session, string) {
	dir := referenceDir(t)
	img, err := LoadImage(filepath.Join(dir, "vmlinux"), "", 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { img.Close() })
	core, warns, err := OpenVmcore(filepath.Join(dir, "vmcore"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { core.Close() })
	for _, w := range warns {
		t.Errorf("vmcore warning: %v", w)
	}
	s, err := NewSession(img, core, nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return s, dir
}
