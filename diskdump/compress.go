package diskdump

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"io"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
)

// Compression is how the writer stores pages: one of the page_desc flags,
// or 0 for pages stored as they are.
type Compression uint32

// The compressions this package writes (it reads snappy too; lzo has no
// well-kept Go implementation and is refused by name).
const (
	None = Compression(0)
	Zlib = Compression(CompressZlib)
	Zstd = Compression(CompressZstd)
)

// ParseCompression reads "zstd", "zlib" or "none".
func ParseCompression(s string) (Compression, error) {
	switch s {
	case "zstd":
		return Zstd, nil
	case "zlib":
		return Zlib, nil
	case "none":
		return None, nil
	}
	return 0, fmt.Errorf("compression %q: want zstd, zlib or none", s)
}

func (c Compression) String() string {
	switch c {
	case Zstd:
		return "zstd"
	case Zlib:
		return "zlib"
	case None:
		return "none"
	}
	return fmt.Sprintf("compression(%#x)", uint32(c))
}

// compressor compresses one page at a time, keeping its state between
// pages (the zstd encoder and the zlib writer are costly to make).
type compressor struct {
	kind Compression
	zstd *zstd.Encoder
	zlib *zlib.Writer
	buf  bytes.Buffer
}

func newCompressor(c Compression) (*compressor, error) {
	p := &compressor{kind: c}
	switch c {
	case None:
	case Zstd:
		// Level 1 as makedumpfile's ZSTD_compressCCtx(..., 1); one
		// goroutine and a small window: pages are 4-64 KiB and the
		// capture kernel has little memory.
		enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1),
			zstd.WithLowerEncoderMem(true), zstd.WithWindowSize(1<<17), zstd.WithEncoderCRC(false))
		if err != nil {
			return nil, err
		}
		p.zstd = enc
	case Zlib:
		w, err := zlib.NewWriterLevel(&p.buf, zlib.BestSpeed) // Z_BEST_SPEED, as makedumpfile
		if err != nil {
			return nil, err
		}
		p.zlib = w
	default:
		return nil, fmt.Errorf("cannot write %v pages", c)
	}
	return p, nil
}

// compress returns page's stored form and its page_desc flags: the
// compressed bytes when they are smaller than the page, else the page
// itself with flags 0, as makedumpfile decides.
func (p *compressor) compress(page, dst []byte) ([]byte, uint32) {
	switch p.kind {
	case Zstd:
		out := p.zstd.EncodeAll(page, dst[:0])
		if len(out) < len(page) {
			return out, CompressZstd
		}
	case Zlib:
		p.buf.Reset()
		p.zlib.Reset(&p.buf)
		if _, err := p.zlib.Write(page); err == nil && p.zlib.Close() == nil && p.buf.Len() < len(page) {
			return append(dst[:0], p.buf.Bytes()...), CompressZlib
		}
	}
	return page, 0
}

// decompressor expands stored pages for the reader.
type decompressor struct {
	zstd *zstd.Decoder
	zlib io.ReadCloser
}

// expand decodes src (stored with flags) into dst, which must come out at
// exactly len(dst) bytes.
func (d *decompressor) expand(dst, src []byte, flags uint32) error {
	n := len(dst)
	switch {
	case flags&CompressZlib != 0:
		var err error
		if d.zlib == nil {
			d.zlib, err = zlib.NewReader(bytes.NewReader(src))
		} else {
			err = d.zlib.(zlib.Resetter).Reset(bytes.NewReader(src), nil)
		}
		if err != nil {
			return fmt.Errorf("zlib: %w", err)
		}
		got, err := io.ReadFull(d.zlib, dst)
		if err != nil {
			return fmt.Errorf("zlib: %d of %d bytes: %w", got, n, err)
		}
		var one [1]byte
		if k, _ := d.zlib.Read(one[:]); k != 0 {
			return fmt.Errorf("zlib: more than the page's %d bytes", n)
		}
	case flags&CompressZstd != 0:
		if d.zstd == nil {
			dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(1<<22), zstd.WithDecoderMaxWindow(1<<22))
			if err != nil {
				return err
			}
			d.zstd = dec
		}
		out, err := d.zstd.DecodeAll(src, dst[:0])
		if err != nil {
			return fmt.Errorf("zstd: %w", err)
		}
		if len(out) != n || &out[0] != &dst[0] {
			return fmt.Errorf("zstd: %d bytes, want the page's %d", len(out), n)
		}
	case flags&CompressSnappy != 0:
		if k, err := s2.DecodedLen(src); err != nil || k != n {
			return fmt.Errorf("snappy: decoded length %d (%v), want the page's %d", k, err, n)
		}
		if _, err := s2.Decode(dst, src); err != nil {
			return fmt.Errorf("snappy: %w", err)
		}
	case flags&CompressLZO != 0:
		return fmt.Errorf("lzo-compressed page: no Go lzo decoder is built in (crash reads it; `makedumpfile -c -d LEVEL IN OUT` rewrites the dump with zlib)")
	default:
		if len(src) != n {
			return fmt.Errorf("stored page of %d bytes, want %d", len(src), n)
		}
		copy(dst, src)
	}
	return nil
}
