package diskdump

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/s2"
)

// memFile is a growing in-memory io.WriterAt.
type memFile struct{ b []byte }

func (m *memFile) WriteAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > 64<<20 {
		return 0, errors.New("memFile: past 64 MiB")
	}
	if end := int(off) + len(p); end > len(m.b) {
		m.b = append(m.b, make([]byte, end-len(m.b))...)
	}
	return copy(m.b[off:], p), nil
}

// TestLayoutsMatchCrash checks the computed struct layouts against the
// offsets crash's diskdump.c documents for the ARM and i386 builds and
// against makedumpfile's 64-bit structs.
func TestLayoutsMatchCrash(t *testing.T) {
	arm := LayoutARM.sub()
	if got := []int{arm.offVmcoreinfo, arm.sizeVmcoreinfo, arm.offNote, arm.sizeNote, arm.offEraseinfo, arm.sizeEraseinfo, arm.startPFN64, arm.endPFN64, arm.maxMapnr64, arm.size}; !equal(got, []int{24, 32, 40, 48, 56, 64, 72, 80, 88, 96}) {
		t.Errorf("ARM sub-header offsets %v", got)
	}
	i386 := LayoutFor("i686", binary.LittleEndian).sub()
	if got := []int{i386.offVmcoreinfo, i386.sizeVmcoreinfo, i386.offNote, i386.sizeNote, i386.offEraseinfo, i386.sizeEraseinfo, i386.startPFN64, i386.endPFN64, i386.maxMapnr64}; !equal(got, []int{20, 28, 32, 40, 44, 52, 56, 64, 72}) {
		t.Errorf("i386 sub-header offsets %v", got)
	}
	if s := Layout64.sub(); s.maxMapnr64 != 96 || s.size != 104 {
		t.Errorf("64-bit sub-header %+v", s)
	}
	if h := Layout64.header(); h.timestamp != 408 || h.status != 424 || h.blockSize != 428 || h.nrCPUs != 460 || h.size != 464 {
		t.Errorf("64-bit header %+v", h)
	}
	if h := LayoutARM.header(); h.timestamp != 404 || h.status != 412 || h.blockSize != 416 || h.nrCPUs != 448 || h.size != 452 {
		t.Errorf("ARM header %+v", h)
	}
	if LayoutFor("armv7l", binary.LittleEndian) != LayoutARM || LayoutFor("aarch64", binary.LittleEndian) != Layout64 {
		t.Error("LayoutFor")
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestHeaderRoundTrip(t *testing.T) {
	for _, l := range []Layout{LayoutARM, Layout64, LayoutFor("i686", binary.LittleEndian), {Order: binary.BigEndian, Word: 8}} {
		machine := map[int]string{4: "armv7l", 8: "x86_64"}[l.Word]
		if l.Packed64 {
			machine = "i686"
		}
		h := &Header{Version: 6, Utsname: Utsname{Sysname: "Linux", Release: "6.1.172", Machine: machine}, Timestamp: time.Unix(1795466427, 250000000).UTC(),
			Status: CompressZstd, BlockSize: 4096, SubHdrSize: 1, BitmapBlocks: 8, MaxMapnr: 0x20000, NrCPUs: 1}
		got, gl, err := ParseHeader(l.MarshalHeader(h))
		if err != nil || *got != *h || gl != l {
			t.Errorf("%+v:\n got %+v %+v %v\nwant %+v", l, got, gl, err, h)
		}
		s := &SubHeader{PhysBase: 0x60000000, DumpLevel: 31, OffsetVmcoreinfo: 0x1234, SizeVmcoreinfo: 0x99, OffsetNote: 0x1060, SizeNote: 0xb84, MaxMapnr64: 0x20000}
		gs, err := l.ParseSubHeader(l.MarshalSubHeader(s), 6)
		if err != nil || *gs != *s {
			t.Errorf("%+v: sub-header %+v %v", l, gs, err)
		}
	}
	if _, _, err := ParseHeader([]byte("DISKDUMP" + strings.Repeat("\x00", 600))); !errors.Is(err, ErrNotKdump) || !strings.Contains(err.Error(), "retired") {
		t.Errorf("DISKDUMP: %v", err)
	}
	bad := LayoutARM.MarshalHeader(&Header{Version: 6, Utsname: Utsname{Machine: "armv7l"}, BlockSize: 3000})
	if _, _, err := ParseHeader(bad); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "block_size") {
		t.Errorf("bad block size: %v", err)
	}
}

func TestBitmapRank(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	m := NewBitmap(20000)
	var naive []uint64
	for i := uint64(0); i < 20000; i++ {
		if r.Intn(3) == 0 {
			m.Set(i)
		}
	}
	var n uint64
	for i := uint64(0); i < 20001; i++ {
		naive = append(naive, n)
		if m.Test(i) {
			n++
		}
	}
	for i := uint64(0); i < 20001; i++ {
		if got := m.Rank(i); got != naive[i] {
			t.Fatalf("Rank(%d) = %d, want %d", i, got, naive[i])
		}
	}
	if m.Count() != n {
		t.Errorf("Count %d, want %d", m.Count(), n)
	}
	first, _ := m.Next(0)
	if !m.Test(first) || m.Rank(first) != 0 {
		t.Errorf("Next(0) = %d", first)
	}
	if _, ok := m.Next(20000); ok {
		t.Error("Next past the end")
	}
}

// synth is a small machine: 64 pages from phys 0x60000000, a hole at
// pages 40-47, zero pages every 5th, some excluded.
type synth struct {
	pages            [][]byte
	present, dumped  *Bitmap
	notes, vmcoreinf []byte
}

var synthPages = 64 // fuzz targets use fewer: small inputs mutate faster

func newSynth() *synth {
	s := &synth{present: NewBitmap(uint64(synthPages)), dumped: NewBitmap(uint64(synthPages))}
	r := rand.New(rand.NewSource(7))
	for i := 0; i < synthPages; i++ {
		p := make([]byte, 4096)
		switch {
		case i%5 == 0: // zero
		case i%3 == 0: // compressible
			copy(p, strings.Repeat("page "+string(rune('a'+i%26)), 500))
		default: // random: stored
			r.Read(p)
		}
		s.pages = append(s.pages, p)
		if i >= 40 && i < 48 {
			continue
		}
		s.present.Set(uint64(i))
		if i%7 != 6 {
			s.dumped.Set(uint64(i))
		}
	}
	s.vmcoreinf = []byte("OSRELEASE=6.1.172\nPAGESIZE=4096\n")
	s.notes = append(note("CORE", 1, make([]byte, 148)), note("VMCOREINFO", 0, s.vmcoreinf)...)
	return s
}

func note(name string, typ uint32, desc []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, []uint32{uint32(len(name) + 1), uint32(len(desc)), typ})
	b.WriteString(name + "\x00")
	for b.Len()%4 != 0 {
		b.WriteByte(0)
	}
	b.Write(desc)
	for b.Len()%4 != 0 {
		b.WriteByte(0)
	}
	return b.Bytes()
}

func (s *synth) config(c Compression, level int) Config {
	return Config{Layout: LayoutARM, Utsname: Utsname{Sysname: "Linux", Release: "6.1.172", Machine: "armv7l"},
		Timestamp: time.Unix(1795466427, 0).UTC(), BlockSize: 4096, PhysBase: 0x60000000, DumpLevel: level,
		MaxMapnr: uint64(synthPages), NrCPUs: 1, Notes: s.notes, Compression: c}
}

// write writes the synthetic dump to out, all pages (upTo < 0) or only
// the first upTo, closing only when all were written.
func (s *synth) write(t testing.TB, out interface {
	WriteAt([]byte, int64) (int, error)
}, cfg Config, upTo int) *Writer {
	w, err := NewWriter(out, cfg, s.present, s.dumped)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for i := uint64(0); i < uint64(synthPages); i++ {
		if !s.dumped.Test(i) {
			continue
		}
		if upTo >= 0 && n == upTo {
			return w
		}
		if err := w.WritePage(i, s.pages[i]); err != nil {
			t.Fatal(err)
		}
		n++
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w
}

func TestWriteReadRoundTrip(t *testing.T) {
	s := newSynth()
	for _, c := range []Compression{Zstd, Zlib, None} {
		for _, level := range []int{0, 1, 31} {
			var plain memFile
			w := s.write(t, &plain, s.config(c, level), -1)
			if w.Size() != int64(len(plain.b)) {
				t.Errorf("%v: Size %d, file %d", c, w.Size(), len(plain.b))
			}
			f, err := New(bytes.NewReader(plain.b), int64(len(plain.b)))
			if err != nil {
				t.Fatalf("%v level %d: %v", c, level, err)
			}
			if f.Incomplete() || f.PFNOffset != 0x60000 || f.Sub.DumpLevel != int32(level) || f.Header.Status&compressMask != uint32(c) {
				t.Errorf("%v: header %+v sub %+v", c, f.Header, f.Sub)
			}
			if vi, ok := f.VMCOREINFO(); !ok || !bytes.Equal(vi, s.vmcoreinf) || !bytes.Equal(f.Notes, s.notes) {
				t.Errorf("%v: VMCOREINFO %q", c, vi)
			}
			checkPages(t, f, s, level)

			var stream bytes.Buffer
			fw := NewFlatWriter(&stream)
			s.write(t, fw, s.config(c, level), -1)
			if err := fw.Close(); err != nil {
				t.Fatal(err)
			}
			var back memFile
			if n, err := Reassemble(&back, bytes.NewReader(stream.Bytes())); err != nil || n != int64(len(plain.b)) || !bytes.Equal(back.b, plain.b) {
				t.Errorf("%v: reassembled %d bytes (%v), differs from the plain file's %d", c, n, err, len(plain.b))
			}
			fr, err := NewFlatReader(bytes.NewReader(stream.Bytes()), int64(stream.Len()))
			if err != nil || fr.Cut != nil {
				t.Fatalf("%v: %v %v", c, err, fr.Cut)
			}
			ff, err := New(fr, fr.Size())
			if err != nil {
				t.Fatal(err)
			}
			checkPages(t, ff, s, level)
		}
	}
}

func checkPages(t *testing.T, f *File, s *synth, level int) {
	t.Helper()
	buf := make([]byte, 4096)
	for i := uint64(0); i < uint64(synthPages); i++ {
		err := f.ReadPage(0x60000+i, buf)
		switch {
		case !s.present.Test(i):
			if !errors.Is(err, ErrNoRAM) {
				t.Errorf("hole pfn %d: %v", i, err)
			}
		case !s.dumped.Test(i):
			if !errors.Is(err, ErrExcluded) || !strings.Contains(err.Error(), "(level "+strconv.Itoa(level)+")") {
				t.Errorf("excluded pfn %d: %v", i, err)
			}
		case err != nil || !bytes.Equal(buf, s.pages[i]):
			t.Errorf("pfn %d: %v, data differs: %v", i, err, !bytes.Equal(buf, s.pages[i]))
		}
	}
	if err := f.ReadPage(0x60000+uint64(synthPages), buf); !errors.Is(err, ErrNoRAM) {
		t.Errorf("past max_mapnr: %v", err)
	}
}

func TestIncompleteDumpSaysSo(t *testing.T) {
	s := newSynth()
	var plain memFile
	w := s.write(t, &plain, s.config(Zstd, 31), 20)
	w.flushDesc()
	w.flushData()
	f, err := New(bytes.NewReader(plain.b), int64(len(plain.b)))
	if err != nil {
		t.Fatal(err)
	}
	if !f.Incomplete() {
		t.Error("a dump whose writer never closed does not say incomplete")
	}
	buf := make([]byte, 4096)
	if err := f.ReadPage(0x60000+38, buf); !errors.Is(err, ErrIncomplete) {
		t.Errorf("unwritten page: %v", err)
	}
	if err := f.ReadPage(0x60000+1, buf); err != nil || !bytes.Equal(buf, s.pages[1]) {
		t.Errorf("written page: %v", err)
	}
	if err := w.Close(); err == nil || !strings.Contains(err.Error(), "stays marked incomplete") {
		t.Errorf("Close with pages missing: %v", err)
	}

	// A cut stream has no header (it comes last) and no end marker.
	var stream bytes.Buffer
	fw := NewFlatWriter(&stream)
	s.write(t, fw, s.config(Zstd, 31), 20).flushData()
	fr, err := NewFlatReader(bytes.NewReader(stream.Bytes()), int64(stream.Len()))
	if err != nil || !errors.Is(fr.Cut, ErrFlatCut) {
		t.Fatalf("%v, cut %v", err, fr.Cut)
	}
	if _, err := New(fr, fr.Size()); !errors.Is(err, ErrNotKdump) {
		t.Errorf("cut stream read as a dump: %v", err)
	}
	if _, err := Reassemble(&memFile{}, bytes.NewReader(stream.Bytes()[:stream.Len()-100])); !errors.Is(err, ErrFlatCut) {
		t.Errorf("Reassemble of a cut stream: %v", err)
	}
}

func TestWriterRefusesDisorder(t *testing.T) {
	s := newSynth()
	w, err := NewWriter(&memFile{}, s.config(Zstd, 31), s.present, s.dumped)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WritePage(1, s.pages[1]); err == nil || !strings.Contains(err.Error(), "before dumped pfn 0x60000") {
		t.Errorf("skipping pfn 0: %v", err)
	}
	if err := w.WritePage(6, s.pages[6]); err == nil || !strings.Contains(err.Error(), "not in the dumped bitmap") {
		t.Errorf("excluded pfn: %v", err)
	}
}

func TestFlatReaderRefusesOverlap(t *testing.T) {
	var stream bytes.Buffer
	fw := NewFlatWriter(&stream)
	fw.WriteAt([]byte("abcdef"), 0)
	fw.WriteAt([]byte("xy"), 4)
	fw.Close()
	if _, err := NewFlatReader(bytes.NewReader(stream.Bytes()), int64(stream.Len())); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "overlap") {
		t.Errorf("overlap: %v", err)
	}
	var back memFile
	if _, err := Reassemble(&back, bytes.NewReader(stream.Bytes())); err != nil || string(back.b) != "abcdxy" {
		t.Errorf("Reassemble: later block wins as in makedumpfile -R: %q %v", back.b, err)
	}
}

// TestSnappyAndLZOPages: makedumpfile -p pages (snappy blocks) expand; an
// lzo page (-l) is refused naming the tools that read it.
func TestSnappyAndLZOPages(t *testing.T) {
	page := bytes.Repeat([]byte("snappy page "), 4096/12+1)[:4096]
	var d decompressor
	out := make([]byte, 4096)
	if err := d.expand(out, s2.EncodeSnappy(nil, page), CompressSnappy); err != nil || !bytes.Equal(out, page) {
		t.Errorf("snappy: %v", err)
	}
	if err := d.expand(out, s2.EncodeSnappy(nil, page[:100]), CompressSnappy); err == nil {
		t.Error("a snappy block of 100 bytes filled a 4096-byte page")
	}
	if err := d.expand(out, []byte{1, 2, 3}, CompressLZO); err == nil || !strings.Contains(err.Error(), "makedumpfile -c") {
		t.Errorf("lzo: %v", err)
	}
}

// TestSplitPartsAndJoin writes the synthetic dump as two split parts:
// each reads its own pages and names the other part for the rest, and
// Join gives back, byte for byte, the dump written whole.
func TestSplitPartsAndJoin(t *testing.T) {
	s := newSynth()
	var whole memFile
	s.write(t, &whole, s.config(Zstd, 31), -1)
	var parts []*File
	for _, r := range [][2]uint64{{0, 30}, {30, uint64(synthPages)}} {
		cfg := s.config(Zstd, 31)
		cfg.Part, cfg.PartStart, cfg.PartEnd = true, r[0], r[1]
		var m memFile
		w, err := NewWriter(&m, cfg, s.present, s.dumped)
		if err != nil {
			t.Fatal(err)
		}
		for i, ok := s.dumped.Next(r[0]); ok && i < r[1]; i, ok = s.dumped.Next(i + 1) {
			if err := w.WritePage(i, s.pages[i]); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		f, err := New(bytes.NewReader(m.b), int64(len(m.b)))
		if err != nil {
			t.Fatal(err)
		}
		if split, start, end := f.Split(); !split || start != 0x60000+r[0] || end != 0x60000+r[1] {
			t.Errorf("part %v: Split() = %v %#x %#x", r, split, start, end)
		}
		buf := make([]byte, 4096)
		for i := uint64(0); i < uint64(synthPages); i++ {
			if !s.dumped.Test(i) {
				continue
			}
			err := f.ReadPage(0x60000+i, buf)
			if in := i >= r[0] && i < r[1]; in && (err != nil || !bytes.Equal(buf, s.pages[i])) || !in && !errors.Is(err, ErrOtherPart) {
				t.Errorf("part %v, pfn %d: %v", r, i, err)
			}
		}
		parts = append(parts, f)
	}
	var joined memFile
	if _, err := Join(&joined, []*File{parts[1], parts[0]}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(joined.b, whole.b) {
		t.Errorf("the joined parts (%d bytes) differ from the dump written whole (%d)", len(joined.b), len(whole.b))
	}
	if _, err := Join(&memFile{}, parts[:1]); err == nil || !strings.Contains(err.Error(), "a part is missing") {
		t.Errorf("one part of two: %v", err)
	}
}
