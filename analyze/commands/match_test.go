package commands

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kdumpkit/kdumpkit/analyze/dump/dumptest"
	"github.com/kdumpkit/kdumpkit/analyze/symbols"
)

const (
	bannerVA  = 0x80008000 // linux_banner in .rodata
	bannerOld = "Linux version 6.1.0 (kdk@host) (gcc 12) #1 SMP Mon Nov 23 10:00:00 UTC 2026\n"
	bannerNew = "Linux version 6.1.0 (kdk@host) (gcc 12) #2 SMP Mon Nov 23 11:00:00 UTC 2026\n"
)

// writePair writes an ARM32 vmcore whose memory holds dumpBanner at
// bannerVA and whose VMCOREINFO has the given BUILD-ID line (or none), and
// a vmlinux with fileBanner as linux_banner (no symbol when it is "") and
// an optional build-id note.
func writePair(t *testing.T, dumpBanner, vmcoreID, fileBanner string, buildID []byte) (vmlinux, vmcore string) {
	t.Helper()
	return writePairAt(t, dumpBanner, bannerVA, vmcoreID, fileBanner, buildID)
}

// writePairAt is writePair with the dump's banner at dumpVA, where a
// kernel moved by KASLR has it.
func writePairAt(t *testing.T, dumpBanner string, dumpVA uint64, vmcoreID, fileBanner string, buildID []byte) (vmlinux, vmcore string) {
	t.Helper()
	dir := t.TempDir()
	ram := make([]byte, 1<<20) // at physical 0x60000000, virtual 0x80000000
	copy(ram[dumpVA-0x80000000:], dumpBanner+"\x00")
	info := "OSRELEASE=6.1.0\nPAGESIZE=4096\nSYMBOL(swapper_pg_dir)=80004000\n" + vmcoreID
	core := &dumptest.Core{Class: elf.ELFCLASS32, ByteOrder: binary.LittleEndian, Machine: elf.EM_ARM,
		Notes: []dumptest.Note{{Name: "VMCOREINFO", Desc: []byte(info)}},
		Loads: []dumptest.Load{{Paddr: 0x60000000, Vaddr: 0x80000000, Data: ram}}}
	img := &dumptest.Vmlinux{Machine: elf.EM_ARM, BuildID: buildID,
		Sections: []dumptest.Section{{Name: ".rodata", Addr: bannerVA, Data: []byte(fileBanner + "\x00padding")}},
		Symbols:  []dumptest.Symbol{{Name: "swapper_pg_dir", Addr: 0x80004000, Size: 0x4000}}}
	if fileBanner != "" {
		img.Symbols = append(img.Symbols, dumptest.Symbol{Name: "linux_banner", Addr: bannerVA, Size: uint64(len(fileBanner) + 1)})
	}
	vmlinux, vmcore = filepath.Join(dir, "vmlinux"), filepath.Join(dir, "vmcore")
	if err := os.WriteFile(vmlinux, img.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(vmcore, core.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return vmlinux, vmcore
}

func openPair(vmlinux, vmcore string) (string, error) {
	var warn bytes.Buffer
	_, closeFiles, err := Open(vmlinux, vmcore, "", &warn)
	if err == nil {
		closeFiles()
	}
	return warn.String(), err
}

// TestBannerMatchWithoutBuildID: with no BUILD-ID on one side, the
// vmlinux's linux_banner must equal the dump's, as crash checks it.
func TestBannerMatchWithoutBuildID(t *testing.T) {
	id := bytes.Repeat([]byte{0xab}, 20)
	for name, c := range map[string]struct {
		vmcoreID string
		buildID  []byte
	}{
		"no BUILD-ID either side":  {"", nil},
		"vmlinux without build-id": {"BUILD-ID=" + strings.Repeat("ab", 20) + "\n", nil},
		"VMCOREINFO without one":   {"", id},
	} {
		vmlinux, vmcore := writePair(t, bannerOld, c.vmcoreID, bannerNew, c.buildID)
		_, err := openPair(vmlinux, vmcore)
		if !errors.Is(err, symbols.ErrBuildIDMismatch) || !strings.Contains(err.Error(), `#1 SMP`) || !strings.Contains(err.Error(), `#2 SMP`) {
			t.Errorf("%s: other kernel's vmlinux: err = %v, want ErrBuildIDMismatch showing both banners", name, err)
		}
		vmlinux, vmcore = writePair(t, bannerOld, c.vmcoreID, bannerOld, c.buildID)
		warn, err := openPair(vmlinux, vmcore)
		if err != nil || strings.Contains(warn, "cannot check") {
			t.Errorf("%s: matching banners: err %v, warnings %q", name, err, warn)
		}
	}
	// A dump banner that only starts like the vmlinux's is another kernel.
	vmlinux, vmcore := writePair(t, bannerOld+"extra", "", bannerOld, nil)
	if _, err := openPair(vmlinux, vmcore); !errors.Is(err, symbols.ErrBuildIDMismatch) {
		t.Errorf("longer dump banner: err = %v, want a mismatch", err)
	}
}

// TestNothingToCompareWarnsEveryOpen: no build ID and no linux_banner is
// said loudly, on every open.
func TestNothingToCompareWarnsEveryOpen(t *testing.T) {
	vmlinux, vmcore := writePair(t, bannerOld, "", "", nil)
	for i := 0; i < 2; i++ {
		warn, err := openPair(vmlinux, vmcore)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(warn, "WARNING: cannot check that "+vmlinux+" is the kernel that wrote "+vmcore) {
			t.Errorf("open %d: warnings %q, want the cannot-check WARNING", i, warn)
		}
	}
}

// TestKASLROffsetMovesSymbols: with KERNELOFFSET in VMCOREINFO the banner
// check reads the dump's linux_banner at the moved address, and every
// vmlinux symbol the commands see is moved by the offset.
func TestKASLROffsetMovesSymbols(t *testing.T) {
	const off = 0x10000
	vmlinux, vmcore := writePairAt(t, bannerOld, bannerVA+off, "KERNELOFFSET=10000\n", bannerOld, nil)
	s, closeFiles, err := Open(vmlinux, vmcore, "", io.Discard)
	if err != nil {
		t.Fatalf("banner at the KASLR address: %v", err)
	}
	defer closeFiles()
	if a, err := s.Kernel.Syms.Addr("linux_banner"); err != nil || a != bannerVA+off {
		t.Errorf("linux_banner = %#x, %v; want %#x", a, err, bannerVA+off)
	}
	if a, err := s.Kernel.Syms.Addr("swapper_pg_dir"); err != nil || a != 0x80004000+off {
		t.Errorf("swapper_pg_dir = %#x, %v; want %#x", a, err, 0x80004000+off)
	}
	// Without the offset the same vmlinux stays at its link addresses.
	vmlinux, vmcore = writePair(t, bannerOld, "", bannerOld, nil)
	s, closeFiles, err = Open(vmlinux, vmcore, "", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer closeFiles()
	if a, _ := s.Kernel.Syms.Addr("linux_banner"); a != bannerVA {
		t.Errorf("no KERNELOFFSET: linux_banner = %#x, want %#x", a, bannerVA)
	}
}
