package diskdump

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
)

// The flattened format (makedumpfile -F, makedumpfile.h): a 4096-byte
// header whose first 16 bytes are "makedumpfile" padded with NULs, then
// type 1 and version 1 as big-endian int64s; then blocks, each a
// big-endian int64 offset and int64 size followed by size bytes that
// belong at offset of the dump; an offset and size of -1 end the stream.
// Big-endian whatever the machine, so streams cross architectures.
const (
	FlatSignature  = "makedumpfile"
	FlatHeaderSize = 4096
	flatType       = 1
	flatVersion    = 1
	flatBlockHdr   = 16
)

// Flattened-format errors.
var (
	// ErrNotFlat means the data does not start with the flattened header.
	ErrNotFlat = errors.New("not a flattened makedumpfile stream")
	// ErrFlatCut means the stream ends without its end marker: the writer
	// was cut off, and the blocks after the cut are missing.
	ErrFlatCut = errors.New("flattened stream ends before its end marker")
)

// IsFlat reports whether b (at least 32 bytes) starts a flattened stream.
func IsFlat(b []byte) bool {
	return len(b) >= 32 && bytes.Equal(b[:16], append([]byte(FlatSignature), 0, 0, 0, 0)) &&
		binary.BigEndian.Uint64(b[16:]) == flatType
}

// FlatWriter turns WriteAt calls into a flattened stream on w: each call
// is one block. Close writes the end marker; a stream without it reads as
// cut.
type FlatWriter struct {
	w       io.Writer
	started bool
	n       int64
	err     error
}

// NewFlatWriter returns a FlatWriter on w.
func NewFlatWriter(w io.Writer) *FlatWriter { return &FlatWriter{w: w} }

func (f *FlatWriter) write(b []byte) error {
	if f.err != nil {
		return f.err
	}
	n, err := f.w.Write(b)
	f.n += int64(n)
	if err == nil && n < len(b) {
		err = io.ErrShortWrite
	}
	f.err = err
	return err
}

func (f *FlatWriter) start() error {
	if f.started {
		return f.err
	}
	f.started = true
	h := make([]byte, FlatHeaderSize)
	copy(h, FlatSignature)
	binary.BigEndian.PutUint64(h[16:], flatType)
	binary.BigEndian.PutUint64(h[24:], flatVersion)
	return f.write(h)
}

// WriteAt appends the block (off, p) to the stream.
func (f *FlatWriter) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("flattened block at negative offset %d", off)
	}
	if err := f.start(); err != nil {
		return 0, err
	}
	var h [flatBlockHdr]byte
	binary.BigEndian.PutUint64(h[:], uint64(off))
	binary.BigEndian.PutUint64(h[8:], uint64(len(p)))
	if err := f.write(h[:]); err != nil {
		return 0, err
	}
	if err := f.write(p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Close writes the end marker; it does not close the underlying writer.
func (f *FlatWriter) Close() error {
	if err := f.start(); err != nil {
		return err
	}
	var h [flatBlockHdr]byte
	for i := range h {
		h[i] = 0xff // offset -1, size -1: END_FLAG_FLAT_HEADER
	}
	return f.write(h[:])
}

// Len is the number of bytes written to the stream so far.
func (f *FlatWriter) Len() int64 { return f.n }

// flatBlock is one block: dump bytes [off, off+size) at stream offset at.
type flatBlock struct{ off, size, at int64 }

// FlatReader reads a flattened stream held by an io.ReaderAt as the dump it
// stands for, without rewriting it: an index of the blocks, sorted by dump
// offset, maps each read. Bytes no block wrote read as zeros, as crash
// reads them.
type FlatReader struct {
	r      io.ReaderAt
	blocks []flatBlock
	size   int64
	// Cut is ErrFlatCut (wrapped with where) when the stream has no end
	// marker; the blocks before the cut are readable.
	Cut error
}

// NewFlatReader indexes the blocks of a flattened stream of size bytes.
// Blocks that overlap are refused: makedumpfile never writes them, and
// which one wins would depend on the reader.
func NewFlatReader(r io.ReaderAt, size int64) (*FlatReader, error) {
	var h [32]byte
	if n, _ := r.ReadAt(h[:], 0); n < len(h) || !IsFlat(h[:]) {
		return nil, ErrNotFlat
	}
	if v := binary.BigEndian.Uint64(h[24:]); v != flatVersion {
		return nil, &FormatError{24, "flattened header version", fmt.Sprintf("%d, want %d", v, flatVersion)}
	}
	f := &FlatReader{r: r}
	at := int64(FlatHeaderSize)
	for {
		var b [flatBlockHdr]byte
		if n, _ := r.ReadAt(b[:], at); n < flatBlockHdr {
			f.Cut = fmt.Errorf("%w: stream byte %#x of %#x, after %d blocks", ErrFlatCut, at, size, len(f.blocks))
			break
		}
		off, n := int64(binary.BigEndian.Uint64(b[:])), int64(binary.BigEndian.Uint64(b[8:]))
		if off == -1 && n == -1 {
			break
		}
		if off < 0 || n < 0 || off+n < off {
			return nil, &FormatError{at, "flattened block header", fmt.Sprintf("offset %d, size %d", off, n)}
		}
		if at+flatBlockHdr+n > size {
			f.Cut = fmt.Errorf("%w: the block for dump bytes %#x-%#x at stream byte %#x runs past the stream's end %#x", ErrFlatCut, off, off+n, at, size)
			break
		}
		if n > 0 {
			f.blocks = append(f.blocks, flatBlock{off: off, size: n, at: at + flatBlockHdr})
		}
		f.size = max(f.size, off+n)
		at += flatBlockHdr + n
	}
	sort.SliceStable(f.blocks, func(i, j int) bool { return f.blocks[i].off < f.blocks[j].off })
	for i := 1; i < len(f.blocks); i++ {
		p, q := f.blocks[i-1], f.blocks[i]
		if q.off < p.off+p.size {
			return nil, &FormatError{q.at - flatBlockHdr, "flattened block", fmt.Sprintf("dump bytes %#x-%#x overlap the block at stream byte %#x (%#x-%#x)", q.off, q.off+q.size, p.at-flatBlockHdr, p.off, p.off+p.size)}
		}
	}
	return f, nil
}

// Size is the length of the dump the stream stands for.
func (f *FlatReader) Size() int64 { return f.size }

// Blocks is the number of data blocks.
func (f *FlatReader) Blocks() int { return len(f.blocks) }

// ReadAt reads dump bytes [off, off+len(p)).
func (f *FlatReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("flattened read at negative offset %d", off)
	}
	done := 0
	for done < len(p) {
		pos := off + int64(done)
		if pos >= f.size {
			return done, io.EOF
		}
		i := sort.Search(len(f.blocks), func(i int) bool { return f.blocks[i].off+f.blocks[i].size > pos })
		want := p[done:]
		if i == len(f.blocks) || f.blocks[i].off > pos { // a gap: zeros up to the next block
			end := f.size
			if i < len(f.blocks) {
				end = f.blocks[i].off
			}
			k := min(int64(len(want)), end-pos)
			clear(want[:k])
			done += int(k)
			continue
		}
		b := f.blocks[i]
		k := min(int64(len(want)), b.off+b.size-pos)
		n, err := f.r.ReadAt(want[:k], b.at+pos-b.off)
		done += n
		if err != nil && n < int(k) {
			return done, fmt.Errorf("reading flattened block at stream byte %#x: %w", b.at, err)
		}
	}
	return done, nil
}

// Reassemble rewrites a flattened stream as the plain dump it stands for
// (makedumpfile -R): each block is written at its offset, a later block
// over an earlier one as makedumpfile does. It returns the dump's size;
// a stream without its end marker gives ErrFlatCut after writing every
// whole block it had.
func Reassemble(dst io.WriterAt, src io.Reader) (int64, error) {
	h := make([]byte, FlatHeaderSize)
	if _, err := io.ReadFull(src, h); err != nil || !IsFlat(h) {
		return 0, ErrNotFlat
	}
	buf := make([]byte, 1<<20)
	var size, at int64 = 0, FlatHeaderSize
	for {
		var b [flatBlockHdr]byte
		if _, err := io.ReadFull(src, b[:]); err != nil {
			return size, fmt.Errorf("%w: stream byte %#x", ErrFlatCut, at)
		}
		off, n := int64(binary.BigEndian.Uint64(b[:])), int64(binary.BigEndian.Uint64(b[8:]))
		if off == -1 && n == -1 {
			return size, nil
		}
		if off < 0 || n < 0 || off+n < off {
			return size, &FormatError{at, "flattened block header", fmt.Sprintf("offset %d, size %d", off, n)}
		}
		at += flatBlockHdr
		for k := int64(0); k < n; {
			c := buf[:min(int64(len(buf)), n-k)]
			if _, err := io.ReadFull(src, c); err != nil {
				return size, fmt.Errorf("%w: inside the block for dump bytes %#x-%#x at stream byte %#x", ErrFlatCut, off, off+n, at)
			}
			if _, err := dst.WriteAt(c, off+k); err != nil {
				return size, err
			}
			k += int64(len(c))
			at += int64(len(c))
		}
		size = max(size, off+n)
	}
}
