package capture

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// Raw-disk layout (little-endian): a 4 KiB header at offset 0, files
// from offset 4096, each 4 KiB-aligned.
//
//	0   magic "KDKDUMP1"      8 bytes
//	8   version (1)           u32
//	12  file count (≤ 8)      u32
//	16  time, Unix seconds    i64
//	24  entries, 80 bytes each: name [32]byte, offset u64, size u64, sha256 [32]byte
//	4064 sha256 of bytes 0–4063
//
// The header is zeroed before the first file is written and written last,
// so a dump cut short never carries a valid header.
const (
	diskMagic      = "KDKDUMP1"
	diskHeaderSize = 4096
	diskMaxFiles   = 8
	diskEntrySize  = 80
)

// ErrNoDump means a disk holds no valid kdumpkit header.
var ErrNoDump = errors.New("no kdumpkit dump on disk")

// Disk is what a raw-disk target needs of the device.
type Disk interface {
	io.WriterAt
	Sync() error
	Close() error
}

// DiskTarget writes the dump to a raw block device (a virtio disk under
// QEMU, an SD card partition on a board).
type DiskTarget struct {
	Label string // e.g. "disk:/dev/vda"
	Path  string
	Size  int64 // device size; 0 means ask the device
	// Open opens the device; nil means os.OpenFile. Tests inject faults.
	Open func(path string) (Disk, int64, error)

	d     Disk
	off   int64
	files []FileInfo
	offs  []int64
}

// Name is the label shown in fallback lines.
func (t *DiskTarget) Name() string { return t.Label }

func (t *DiskTarget) open() error {
	if t.d != nil {
		return nil
	}
	if t.Open != nil {
		d, size, err := t.Open(t.Path)
		if err != nil {
			return err
		}
		t.d, t.Size = d, size
	} else {
		f, err := os.OpenFile(t.Path, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		size, err := f.Seek(0, io.SeekEnd)
		if err != nil {
			f.Close()
			return err
		}
		t.d, t.Size = f, size
	}
	t.off = diskHeaderSize
	_, err := t.d.WriteAt(make([]byte, diskHeaderSize), 0) // invalidate any older dump first
	return err
}

// Put writes one file at the next aligned offset.
func (t *DiskTarget) Put(ctx context.Context, name string, r io.Reader, size int64) (string, error) {
	if len(t.files) == diskMaxFiles || len(name) > 32 {
		return "", fmt.Errorf("disk header holds %d files of names ≤ 32 bytes", diskMaxFiles)
	}
	if err := t.open(); err != nil {
		return "", err
	}
	if t.off+size > t.Size {
		return "", fmt.Errorf("%s (%d bytes) does not fit: %s has %d bytes, %d free", name, size, t.Path, t.Size, t.Size-t.off)
	}
	sha, err := copyHashed(io.NewOffsetWriter(t.d, t.off), r, size)
	if err != nil {
		return "", err
	}
	t.files = append(t.files, FileInfo{name, size, sha})
	t.offs = append(t.offs, t.off)
	t.off += (size + diskHeaderSize - 1) &^ (diskHeaderSize - 1)
	return sha, nil
}

// Commit syncs the data, then writes and syncs the header.
func (t *DiskTarget) Commit() error {
	if t.d == nil {
		return errors.New("nothing written")
	}
	if err := t.d.Sync(); err != nil {
		return err
	}
	h := encodeHeader(t.files, t.offs, time.Now())
	if _, err := t.d.WriteAt(h, 0); err != nil {
		return err
	}
	if err := t.d.Sync(); err != nil {
		return err
	}
	return t.d.Close()
}

// Abort leaves the header zeroed (as open made it) and closes the device.
func (t *DiskTarget) Abort() {
	if t.d != nil {
		t.d.Close()
		t.d = nil
	}
}

func encodeHeader(files []FileInfo, offs []int64, now time.Time) []byte {
	h := make([]byte, diskHeaderSize)
	le := binary.LittleEndian
	copy(h, diskMagic)
	le.PutUint32(h[8:], 1)
	le.PutUint32(h[12:], uint32(len(files)))
	le.PutUint64(h[16:], uint64(now.Unix()))
	for i, f := range files {
		e := h[24+i*diskEntrySize:]
		copy(e[:32], f.Name)
		le.PutUint64(e[32:], uint64(offs[i]))
		le.PutUint64(e[40:], uint64(f.Size))
		sum, _ := hex.DecodeString(f.SHA256)
		copy(e[48:80], sum)
	}
	sum := sha256.Sum256(h[:diskHeaderSize-32])
	copy(h[diskHeaderSize-32:], sum[:])
	return h
}

// DiskEntry is one file recorded in a disk header.
type DiskEntry struct {
	FileInfo
	Offset int64
}

// DiskHeader is a decoded raw-disk header.
type DiskHeader struct {
	Time    time.Time
	Entries []DiskEntry
}

// ReadDiskHeader decodes the header of a raw dump disk or image of
// diskSize bytes, checking its own hash and that every file lies inside.
func ReadDiskHeader(r io.ReaderAt, diskSize int64) (*DiskHeader, error) {
	h := make([]byte, diskHeaderSize)
	if _, err := r.ReadAt(h, 0); err != nil {
		return nil, fmt.Errorf("reading the header: %w", err)
	}
	if string(h[:8]) != diskMagic {
		return nil, fmt.Errorf("%w: magic %q, want %q (a cut-short capture leaves the header zeroed)", ErrNoDump, bytes.TrimRight(h[:8], "\x00"), diskMagic)
	}
	if sum := sha256.Sum256(h[:diskHeaderSize-32]); !bytes.Equal(sum[:], h[diskHeaderSize-32:]) {
		return nil, fmt.Errorf("%w: header checksum does not match", ErrNoDump)
	}
	le := binary.LittleEndian
	if v := le.Uint32(h[8:]); v != 1 {
		return nil, fmt.Errorf("header version %d, want 1", v)
	}
	n := le.Uint32(h[12:])
	if n > diskMaxFiles {
		return nil, fmt.Errorf("header lists %d files, at most %d fit", n, diskMaxFiles)
	}
	dh := &DiskHeader{Time: time.Unix(int64(le.Uint64(h[16:])), 0).UTC()}
	for i := 0; i < int(n); i++ {
		e := h[24+i*diskEntrySize:]
		off, size := int64(le.Uint64(e[32:])), int64(le.Uint64(e[40:]))
		if off < diskHeaderSize || size < 0 || off > diskSize || size > diskSize-off {
			return nil, fmt.Errorf("entry %d: bytes %#x+%#x outside the %d-byte disk", i, off, size, diskSize)
		}
		dh.Entries = append(dh.Entries, DiskEntry{FileInfo{string(bytes.TrimRight(e[:32], "\x00")), size, hex.EncodeToString(e[48:80])}, off})
	}
	return dh, nil
}

// ExtractDisk copies every file of a raw dump disk image into dir,
// verifying each SHA-256; a mismatch leaves no file under its final name.
func ExtractDisk(image, dir string) (*DiskHeader, error) {
	f, err := os.Open(image)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	h, err := ReadDiskHeader(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", image, err)
	}
	for _, e := range h.Entries {
		if filepath.Base(e.Name) != e.Name || e.Name == "." || e.Name == ".." {
			return nil, fmt.Errorf("%s: file name %q is not a plain name", image, e.Name)
		}
		dt := &DirTarget{Dir: dir}
		sha, err := dt.Put(context.Background(), e.Name, io.NewSectionReader(f, e.Offset, e.Size), e.Size)
		if err == nil && sha != e.SHA256 {
			os.Remove(filepath.Join(dir, e.Name))
			err = fmt.Errorf("sha256 %s, the header says %s", sha, e.SHA256)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", image, e.Name, err)
		}
	}
	return h, nil
}
