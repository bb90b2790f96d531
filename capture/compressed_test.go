package capture

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/kdumpkit/kdumpkit/analyze/dump"
	"github.com/kdumpkit/kdumpkit/analyze/dump/dumptest"
	"github.com/kdumpkit/kdumpkit/diskdump"
	"github.com/kdumpkit/kdumpkit/dumpconv"
)

// elfCore is a small ARM vmcore: 4 MiB of RAM at 0x60000000, half of it
// zero pages, the rest random (so the dump is a few MiB).
func elfCore() []byte {
	ram := make([]byte, 4<<20)
	r := rand.New(rand.NewSource(5))
	for p := 0; p < len(ram); p += 8192 {
		r.Read(ram[p : p+4096])
	}
	info := "OSRELEASE=6.1.0\nPAGESIZE=4096\nSYMBOL(swapper_pg_dir)=80004000\nCRASHTIME=1795466427\n"
	return (&dumptest.Core{Class: elf.ELFCLASS32, ByteOrder: binary.LittleEndian, Machine: elf.EM_ARM,
		Notes: []dumptest.Note{{Name: "CORE", Type: uint32(elf.NT_PRSTATUS), Desc: make([]byte, 148)}, {Name: "VMCOREINFO", Desc: []byte(info)}},
		Loads: []dumptest.Load{{Paddr: 0x60000000, Vaddr: 0x80000000, Data: ram}}}).Bytes()
}

// failingAt fails every read that reaches byte at.
type failingAt struct {
	b  []byte
	at int64
}

func (f failingAt) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > f.at {
		return 0, syscall.EIO
	}
	return copy(p, f.b[off:]), nil
}

// compressedSource is what the capture tool saves with -format kdump
// (level 1: zero pages shared, everything else kept).
func compressedSource(t *testing.T, r io.ReaderAt, size int64) Source {
	e, err := dump.New(r, size, "/proc/vmcore")
	if err != nil {
		t.Fatal(err)
	}
	return Source{Vmcore: r, VmcoreSize: size, Dmesg: []byte("[    0.000000] Booting Linux\n"), Release: "6.1.0", Detail: "dump level 1, zstd",
		Compressed: func(out io.WriterAt) error {
			_, err := dumpconv.Convert(e, out, dumpconv.Options{Level: 1, Compression: diskdump.Zstd})
			return err
		}}
}

// TestCompressedOnEveryTarget: the directory target gets the seekable
// file, the HTTP target the flattened stream; both read back as the ELF.
func TestCompressedOnEveryTarget(t *testing.T) {
	core := elfCore()
	src := compressedSource(t, bytes.NewReader(core), int64(len(core)))
	dir := t.TempDir()
	m, err := Save(context.Background(), src, []Target{&DirTarget{Label: "dir", Dir: dir}}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	recv := t.TempDir()
	var got string
	srv := httptest.NewServer(&Receiver{Dir: recv, Log: io.Discard, Token: "tok", Received: func(d string) { got = d }})
	defer srv.Close()
	hm, err := Save(context.Background(), src, []Target{&HTTPTarget{Label: "http", URL: strings.Replace(srv.URL, "//", "//tok@", 1) + "/"}}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if m.Format != FormatKdump || hm.Format != FormatKdumpFlat || m.Detail != "dump level 1, zstd" {
		t.Errorf("formats %q %q, detail %q", m.Format, hm.Format, m.Detail)
	}
	e, _ := dump.New(bytes.NewReader(core), int64(len(core)), "elf")
	for _, d := range []string{dir, got} {
		back, err := ReadManifest(d)
		if err != nil {
			t.Fatal(err)
		}
		k, err := dump.Open(filepath.Join(d, VmcoreName))
		if err != nil {
			t.Fatal(err)
		}
		if f, _ := back.File(VmcoreName); f.Size >= int64(len(core)) || k.Kdump() == nil || k.Kdump().Incomplete() {
			t.Errorf("%s: %+v", d, back)
		}
		a, b := make([]byte, 4<<20), make([]byte, 4<<20)
		if err1, err2 := e.ReadPhys(a, 0x60000000), k.ReadPhys(b, 0x60000000); err1 != nil || err2 != nil || !bytes.Equal(a, b) {
			t.Errorf("%s: RAM differs: %v %v", d, err1, err2)
		}
		k.Close()
	}
}

// fullFile fails with ENOSPC once limit bytes were written, and keeps a
// copy of the header for the test to look at.
type fullFile struct {
	*os.File
	limit, n int64
	header   *[]byte
}

func (f *fullFile) WriteAt(p []byte, off int64) (int, error) {
	if off == 0 {
		*f.header = append([]byte(nil), p[:min(len(p), 4096)]...)
	}
	if f.n+int64(len(p)) > f.limit {
		return 0, &os.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
	}
	f.n += int64(len(p))
	return f.File.WriteAt(p, off)
}

// TestCompressedTargetFillsUp: the first target fills up half way; the
// dump it began says incomplete in its header, is removed with the
// dmesg.txt before it, and the next target takes the dump whole.
func TestCompressedTargetFillsUp(t *testing.T) {
	core := elfCore()
	src := compressedSource(t, bytes.NewReader(core), int64(len(core)))
	full, good := t.TempDir(), t.TempDir()
	var header []byte
	first := &DirTarget{Label: "9p:/dump", Dir: full, CreateAt: func(p string) (AtFile, error) {
		f, err := os.Create(p)
		return &fullFile{File: f, limit: 1 << 20, header: &header}, err
	}}
	var console bytes.Buffer
	m, err := Save(context.Background(), src, []Target{first, &DirTarget{Label: "dir:/mnt", Dir: good}}, &console)
	if err != nil || m.Target != "dir:/mnt" {
		t.Fatalf("%+v %v", m, err)
	}
	if ents, _ := os.ReadDir(full); len(ents) != 0 {
		t.Errorf("the full target keeps %v", ents)
	}
	h, _, err := diskdump.ParseHeader(header)
	if err != nil || h.Status&diskdump.StatusIncomplete == 0 {
		t.Errorf("the cut dump's header: %+v %v: want it marked incomplete", h, err)
	}
	if !strings.Contains(console.String(), "no space left on device") || !strings.Contains(console.String(), "trying dir:/mnt") {
		t.Errorf("console:\n%s", console.String())
	}
	if _, err := ReadManifest(good); err != nil {
		t.Error(err)
	}
}

// TestCompressedPageReadFails: /proc/vmcore fails half way: no target
// keeps anything, and the error names the physical address.
func TestCompressedPageReadFails(t *testing.T) {
	core := elfCore()
	src := compressedSource(t, failingAt{core, int64(len(core)) / 2}, int64(len(core)))
	dirs := []string{t.TempDir(), t.TempDir()}
	var console bytes.Buffer
	_, err := Save(context.Background(), src, []Target{&DirTarget{Label: "a", Dir: dirs[0]}, &DirTarget{Label: "b", Dir: dirs[1]}}, &console)
	if !errors.Is(err, ErrAllTargetsFailed) || !errors.Is(err, syscall.EIO) || !strings.Contains(err.Error(), "reading physical 0x60") {
		t.Fatalf("err = %v", err)
	}
	for _, d := range dirs {
		if ents, _ := os.ReadDir(d); len(ents) != 0 {
			t.Errorf("%s keeps %v", d, ents)
		}
	}
}

// TestCompressedStreamCut: a proxy hangs up 1 MiB into the flattened
// stream; the receiver files nothing and the dump goes to the fallback.
func TestCompressedStreamCut(t *testing.T) {
	core := elfCore()
	src := compressedSource(t, bytes.NewReader(core), int64(len(core)))
	dir := t.TempDir()
	srv := httptest.NewServer(&Receiver{Dir: dir, Log: io.Discard, Token: "tok"})
	defer srv.Close()
	ln := cuttingProxy(t, srv.Listener.Addr().String(), 1<<20)
	fallback := t.TempDir()
	var console bytes.Buffer
	m, err := Save(context.Background(), src, []Target{
		&HTTPTarget{Label: "http://proxy", URL: fmt.Sprintf("http://tok@%s/", ln.Addr())},
		&DirTarget{Label: "dir", Dir: fallback}}, &console)
	if err != nil || m.Target != "dir" || m.Format != FormatKdump {
		t.Fatalf("%+v, %v\n%s", m, err, console.String())
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.Name() != ".incoming" {
			t.Errorf("receiver filed %s from a cut stream", e.Name())
		}
	}
}
