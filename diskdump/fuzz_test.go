package diskdump

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzParseHeader: any bytes give a header or an error, never a panic,
// and a parsed header marshals back to what parses the same.
func FuzzParseHeader(f *testing.F) {
	s := newSynth()
	var plain memFile
	s.write(f, &plain, s.config(Zstd, 31), -1)
	f.Add(plain.b[:4096])
	f.Add(Layout64.MarshalHeader(&Header{Version: 6, Utsname: Utsname{Machine: "x86_64"}, BlockSize: 4096}))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, l, err := ParseHeader(b)
		if err != nil {
			return
		}
		h2, l2, err := ParseHeader(l.MarshalHeader(h))
		if err != nil || l2 != l || h2.BlockSize != h.BlockSize || h2.BitmapBlocks != h.BitmapBlocks {
			t.Fatalf("re-parse: %v %+v %+v", err, h2, l2)
		}
		l.ParseSubHeader(b, h.Version)
	})
}

// FuzzBitmap: Rank and Next agree with a bit-by-bit count.
func FuzzBitmap(f *testing.F) {
	f.Add(bytes.Repeat([]byte{0x5a}, 700), uint16(100))
	f.Fuzz(func(t *testing.T, b []byte, at uint16) {
		m := BitmapFrom(b)
		i := uint64(at) % (m.Len() + 1)
		var n uint64
		for j := uint64(0); j < i; j++ {
			if m.Test(j) {
				n++
			}
		}
		if got := m.Rank(i); got != n {
			t.Fatalf("Rank(%d) = %d, want %d", i, got, n)
		}
		if next, ok := m.Next(i); ok && (!m.Test(next) || m.Rank(next) != n) {
			t.Fatalf("Next(%d) = %d", i, next)
		}
	})
}

// FuzzReader: a damaged dump (header, bitmaps, page descriptors, page
// data) gives errors naming what is wrong, never a panic or a page of
// the wrong size.
func FuzzReader(f *testing.F) {
	synthPages = 12
	f.Cleanup(func() { synthPages = 64 })
	s := newSynth()
	for _, c := range []Compression{Zstd, Zlib, None} {
		var plain memFile
		s.write(f, &plain, s.config(c, 31), -1)
		f.Add(plain.b, uint32(0), uint32(0))
		f.Add(plain.b, uint32(5*4096+100), uint32(0xffffffff)) // a page descriptor
	}
	f.Fuzz(func(t *testing.T, b []byte, at, v uint32) {
		if int(at)+4 <= len(b) {
			b = append([]byte(nil), b...)
			b[at], b[at+1], b[at+2], b[at+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
		}
		d, err := New(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			if !errors.Is(err, ErrNotKdump) && !errors.Is(err, ErrFormat) && err.Error() == "" {
				t.Fatalf("unnamed error %v", err)
			}
			return
		}
		buf := make([]byte, d.BlockSize())
		for pfn := d.PFNOffset; pfn < d.PFNOffset+min(d.MaxMapnr, 256); pfn++ {
			d.ReadPage(pfn, buf)
		}
		d.VMCOREINFO()
	})
}

// FuzzFlatReader: any stream indexes or fails cleanly, and when it is
// whole and has no overlaps, reading it in place gives what Reassemble
// writes.
func FuzzFlatReader(f *testing.F) {
	synthPages = 12
	f.Cleanup(func() { synthPages = 64 })
	s := newSynth()
	var stream bytes.Buffer
	fw := NewFlatWriter(&stream)
	s.write(f, fw, s.config(Zstd, 31), -1)
	fw.Close()
	f.Add(stream.Bytes())
	f.Add(stream.Bytes()[:6000])
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := NewFlatReader(bytes.NewReader(b), int64(len(b)))
		var back memFile
		_, rerr := Reassemble(&back, bytes.NewReader(b))
		if err != nil {
			return
		}
		if fr.Size() > 64<<20 {
			return
		}
		got := make([]byte, fr.Size())
		if _, err := fr.ReadAt(got, 0); err != nil {
			t.Fatalf("ReadAt: %v", err)
		}
		if fr.Cut == nil && rerr == nil && !bytes.Equal(got, append(back.b, make([]byte, len(got)-len(back.b))...)) {
			t.Fatal("in-place read differs from Reassemble")
		}
		New(fr, fr.Size())
	})
}
