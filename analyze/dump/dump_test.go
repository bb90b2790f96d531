package dump

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kdumpkit/kdumpkit/analyze/dump/dumptest"

	"github.com/kdumpkit/kdumpkit/internal/testdump"
)

func core(class elf.Class, bo binary.ByteOrder) *dumptest.Core {
	ram1 := bytes.Repeat([]byte{0x11}, 0x2000)
	ram2 := bytes.Repeat([]byte{0x22}, 0x1000)
	return &dumptest.Core{Class: class, ByteOrder: bo, Machine: elf.EM_ARM,
		Notes: []dumptest.Note{
			{Name: "CORE", Type: uint32(elf.NT_PRSTATUS), Desc: make([]byte, 148)},
			{Name: "VMCOREINFO", Desc: []byte("OSRELEASE=6.1.0\nPAGESIZE=4096\n")},
		},
		// Out of order on purpose; the second is contiguous with the first
		// and has a zero-filled tail (memsz > filesz).
		Loads: []dumptest.Load{
			{Paddr: 0x60002000, Vaddr: 0x80002000, Data: ram2, Memsz: 0x2000},
			{Paddr: 0x60000000, Vaddr: 0x80000000, Data: ram1},
		}}
}

func open(t *testing.T, b []byte) *File {
	t.Helper()
	f, err := New(bytes.NewReader(b), int64(len(b)), "test.vmcore")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestReadPhysBothClassesAndOrders(t *testing.T) {
	for _, c := range []struct {
		class elf.Class
		bo    binary.ByteOrder
	}{{elf.ELFCLASS32, binary.LittleEndian}, {elf.ELFCLASS64, binary.LittleEndian}, {elf.ELFCLASS32, binary.BigEndian}, {elf.ELFCLASS64, binary.BigEndian}} {
		f := open(t, core(c.class, c.bo).Bytes())
		if f.Class != c.class || f.ByteOrder != c.bo || f.Machine != elf.EM_ARM {
			t.Errorf("%v %v: got %v %v %v", c.class, c.bo, f.Class, f.ByteOrder, f.Machine)
		}
		buf := make([]byte, 8)
		// Across the boundary of the two segments.
		if err := f.ReadPhys(buf, 0x60001ffc); err != nil || !bytes.Equal(buf, []byte{0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x22, 0x22}) {
			t.Errorf("%v: cross-segment read %x, %v", c.class, buf, err)
		}
		// In the zero-filled tail.
		if err := f.ReadPhys(buf, 0x60003ff8); err != nil || !bytes.Equal(buf, make([]byte, 8)) {
			t.Errorf("tail read %x, %v", buf, err)
		}
		if err := f.ReadPhys(buf, 0x60003ffc); !errors.Is(err, ErrNotInDump) || !strings.Contains(err.Error(), "0x60004000") {
			t.Errorf("read past the end: %v", err)
		}
		if len(f.PRStatus()) != 1 || f.RAMBytes() != 0x4000 {
			t.Errorf("prstatus %d, ram %#x", len(f.PRStatus()), f.RAMBytes())
		}
		if vi, ok := f.VMCOREINFO(); !ok || !strings.HasPrefix(string(vi), "OSRELEASE=6.1.0") {
			t.Errorf("vmcoreinfo %q", vi)
		}
	}
}

func TestTruncatedDumpWarnsAndRefusesMissingBytes(t *testing.T) {
	b := core(elf.ELFCLASS32, binary.LittleEndian).Bytes()
	b = b[:len(b)-0x800] // the last segment (ram1) loses its end
	f := open(t, b)
	if len(f.Warnings) != 1 || !errors.Is(f.Warnings[0], ErrTruncated) || !strings.Contains(f.Warnings[0].Error(), "2048 bytes missing") {
		t.Fatalf("warnings %v", f.Warnings)
	}
	buf := make([]byte, 4)
	if err := f.ReadPhys(buf, 0x60000000); err != nil {
		t.Errorf("present bytes unreadable: %v", err)
	}
	if err := f.ReadPhys(buf, 0x60001900); !errors.Is(err, ErrTruncated) {
		t.Errorf("missing bytes read as %x, %v", buf, err)
	}
}

func TestNotAVmcore(t *testing.T) {
	for name, b := range map[string][]byte{
		"text":       []byte("this is not an ELF file at all, just text"),
		"empty":      nil,
		"executable": exe(),
	} {
		if _, err := New(bytes.NewReader(b), int64(len(b)), name); !errors.Is(err, ErrNotVmcore) {
			t.Errorf("%s: %v", name, err)
		}
	}
	p := filepath.Join(t.TempDir(), "x")
	os.WriteFile(p, []byte("nope"), 0o644)
	if _, err := Open(p); !errors.Is(err, ErrNotVmcore) || !strings.Contains(err.Error(), p) {
		t.Errorf("Open: %v", err)
	}
}

func exe() []byte {
	b := core(elf.ELFCLASS32, binary.LittleEndian).Bytes()
	binary.LittleEndian.PutUint16(b[16:], uint16(elf.ET_EXEC))
	return b
}

func TestParseNotesRejectsOverrun(t *testing.T) {
	b := dumptest.NoteBytes(binary.LittleEndian, []dumptest.Note{{Name: "CORE", Type: 1, Desc: make([]byte, 16)}})
	binary.LittleEndian.PutUint32(b[4:], 1000)
	var fe *FormatError
	if _, err := ParseNotes(b, binary.LittleEndian); !errors.As(err, &fe) || fe.Offset != 0 {
		t.Errorf("err = %v", err)
	}
}

// TestReferenceDump reads the ARM32 test dump (package testdump).
func TestReferenceDump(t *testing.T) {
	f, err := Open(testdump.Require(t).Vmcore)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Class != elf.ELFCLASS32 || f.Machine != elf.EM_ARM || len(f.PRStatus()) != 1 || len(f.Warnings) != 0 {
		t.Errorf("class %v machine %v prstatus %d warnings %v", f.Class, f.Machine, len(f.PRStatus()), f.Warnings)
	}
	if vi, ok := f.VMCOREINFO(); !ok || !bytes.Contains(vi, []byte("OSRELEASE=6.1")) {
		t.Errorf("VMCOREINFO %.60q", vi)
	}
}

func FuzzNew(f *testing.F) {
	f.Add(core(elf.ELFCLASS32, binary.LittleEndian).Bytes())
	f.Add(core(elf.ELFCLASS64, binary.BigEndian).Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := New(bytes.NewReader(b), int64(len(b)), "fuzz")
		if err != nil {
			return
		}
		buf := make([]byte, 64)
		for _, s := range d.Loads {
			d.ReadPhys(buf, s.Paddr)
			d.ReadPhys(buf, s.Paddr+s.Memsz-1)
		}
	})
}

func FuzzParseNotes(f *testing.F) {
	f.Add(dumptest.NoteBytes(binary.LittleEndian, []dumptest.Note{{Name: "CORE", Type: 1, Desc: make([]byte, 148)}, {Name: "VMCOREINFO", Desc: []byte("A=1\n")}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		notes, _ := ParseNotes(b, binary.LittleEndian)
		for _, n := range notes {
			if len(n.Desc) > len(b) {
				t.Fatal("desc longer than input")
			}
		}
	})
}

// TestCutHeaderSaysTruncated: a copy cut inside the ELF header or the
// program header table is a truncated vmcore, and the error says where.
func TestCutHeaderSaysTruncated(t *testing.T) {
	for _, c := range []*dumptest.Core{core(elf.ELFCLASS32, binary.LittleEndian), core(elf.ELFCLASS64, binary.BigEndian)} {
		b := c.Bytes()
		ehsize, phsize := 52, 32
		if c.Class == elf.ELFCLASS64 {
			ehsize, phsize = 64, 56
		}
		phEnd := ehsize + 3*phsize // PT_NOTE and two PT_LOADs
		for _, n := range []int{1, 4, 10, 16, 30, ehsize - 1, ehsize, ehsize + 1, phEnd - 1} {
			_, err := New(bytes.NewReader(b[:n]), int64(n), "cut.vmcore")
			want := fmt.Sprintf("truncated at byte %d", n)
			if !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "cut.vmcore") {
				t.Errorf("%v cut at %d: err = %v, want ErrTruncated saying %q", c.Class, n, err, want)
			}
		}
	}
}

// TestOpenRefusesNonRegular: a FIFO given as the vmcore would block the
// open for ever; a directory or device is no dump either.
func TestOpenRefusesNonRegular(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "vmcore")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	for _, p := range []string{fifo, t.TempDir(), os.DevNull} {
		done := make(chan error, 1)
		go func() {
			f, err := Open(p)
			if err == nil {
				f.Close()
			}
			done <- err
		}()
		select {
		case err := <-done:
			if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), p) {
				t.Errorf("Open(%s) = %v, want ErrNotRegular naming the path", p, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("Open(%s) still blocked after 5s", p)
		}
	}
}

// TestUnverifiedMarker: the pipeline's UNVERIFIED file beside the vmcore
// becomes one warning per reason, "DIR is unverified: REASON", on every
// open, and its reasons are kept for --json.
func TestUnverifiedMarker(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "vmcore")
	if err := os.WriteFile(p, core(elf.ELFCLASS32, binary.LittleEndian).Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if len(f.Warnings) != 0 || f.Unverified != nil {
		t.Fatalf("no marker: warnings %v unverified %q", f.Warnings, f.Unverified)
	}
	reasons := "manifest mismatch: vmcore size 100, manifest says 200\npoweroff timed out after 60s\n"
	if err := os.WriteFile(filepath.Join(dir, UnverifiedName), []byte(reasons), 0o644); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ { // every open, not the first only
		f, err := Open(p)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		want := []string{
			dir + " is unverified: manifest mismatch: vmcore size 100, manifest says 200",
			dir + " is unverified: poweroff timed out after 60s",
		}
		if len(f.Warnings) != 2 || f.Warnings[0].Error() != want[0] || f.Warnings[1].Error() != want[1] {
			t.Errorf("open %d: warnings %v, want %q", i, f.Warnings, want)
		}
		if len(f.Unverified) != 2 {
			t.Errorf("open %d: reasons %q", i, f.Unverified)
		}
	}
}

// TestEveryCutIsTruncated: a valid vmcore cut at any byte is either
// refused as truncated (the cut is in the headers or notes) or opened
// with a truncation warning; never "not an ELF vmcore".
func TestEveryCutIsTruncated(t *testing.T) {
	for _, c := range []*dumptest.Core{core(elf.ELFCLASS32, binary.LittleEndian), core(elf.ELFCLASS64, binary.BigEndian)} {
		b := c.Bytes()
		for n := 1; n < len(b); n += cutStep(n) {
			f, err := New(bytes.NewReader(b[:n]), int64(n), "cut")
			switch {
			case err != nil && !errors.Is(err, ErrTruncated):
				t.Fatalf("%v cut at %d: %v, want ErrTruncated", c.Class, n, err)
			case err == nil && (len(f.Warnings) == 0 || !errors.Is(f.Warnings[0], ErrTruncated)):
				t.Fatalf("%v cut at %d: opened with warnings %v, want a truncation warning", c.Class, n, f.Warnings)
			}
		}
	}
}

// cutStep tries every byte of the headers and notes, then samples the data.
func cutStep(n int) int {
	if n < 512 {
		return 1
	}
	return 61
}

// TestReadPhysOverlappingLoads: arm64's kexec_file_load header has a
// PT_LOAD for the kernel image (at its KASLR'd physical address) inside
// the RAM PT_LOAD that also holds it, as in a real 6.12 dump:
// RAM 0x40000000+0x2ee00000 and the image 0x40200000+0x780000. Every RAM
// byte stays readable, and the RAM is counted once.
func TestReadPhysOverlappingLoads(t *testing.T) {
	ram := make([]byte, 0x10000)
	for i := range ram {
		ram[i] = byte(i >> 8)
	}
	c := &dumptest.Core{Class: elf.ELFCLASS64, ByteOrder: binary.LittleEndian, Machine: elf.EM_AARCH64,
		Loads: []dumptest.Load{
			{Paddr: 0x40002000, Vaddr: 0xffffd9f2be000000, Data: ram[0x2000:0x4000]},                 // the image, inside
			{Paddr: 0x40000000, Vaddr: 0xffff20c5c0000000, Data: ram},                                // RAM
			{Paddr: 0x4000f000, Vaddr: 0xffffd9f2bf000000, Data: ram[0xf000:], Memsz: 0x3000},        // overlapping RAM's end
			{Paddr: 0x40020000, Vaddr: 0xffff20c5c0020000, Data: bytes.Repeat([]byte{0xee}, 0x1000)}, // after a hole
		}}
	f := open(t, c.Bytes())
	for _, addr := range []uint64{0x40000000, 0x40001ff8, 0x40002000, 0x40003ff8, 0x40004000, 0x40008000, 0x4000eff8, 0x4000fff8} {
		buf := make([]byte, 8)
		if err := f.ReadPhys(buf, addr); err != nil || !bytes.Equal(buf, ram[addr-0x40000000:][:8]) {
			t.Errorf("ReadPhys(%#x) = %x, %v; want %x", addr, buf, err, ram[addr-0x40000000:][:8])
		}
	}
	// The overlapping segment's own tail past RAM's end (zero fill).
	buf := make([]byte, 8)
	if err := f.ReadPhys(buf, 0x40011000); err != nil || !bytes.Equal(buf, make([]byte, 8)) {
		t.Errorf("ReadPhys(0x40011000) = %x, %v; want zeros", buf, err)
	}
	if err := f.ReadPhys(buf, 0x40012000); !errors.Is(err, ErrNotInDump) {
		t.Errorf("ReadPhys in the hole: %v, want ErrNotInDump", err)
	}
	if err := f.ReadPhys(buf, 0x40020000); err != nil || buf[0] != 0xee {
		t.Errorf("ReadPhys after the hole = %x, %v", buf, err)
	}
	if got, want := f.RAMBytes(), uint64(0x12000+0x1000); got != want {
		t.Errorf("RAMBytes = %#x, want %#x (each byte once)", got, want)
	}
}
