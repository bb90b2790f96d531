package capture

import (
	"bytes"
	"context"
	"crypto/rand"
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

// Raw-disk layout, version 2 (little-endian): a 4 KiB header at offset
// 0, then each file as a 4 KiB file block followed by its bytes, every
// block 4 KiB-aligned.
//
//	header
//	0    magic "KDKDUMP1"      8 bytes
//	8    version (2)           u32
//	12   file count (≤ 8)      u32
//	16   time, Unix seconds    i64
//	24   generation            u64, random per capture, never 0
//	32   entries, 80 bytes each: name [32]byte, offset u64 (of the file's
//	     bytes, just after its block), size u64, sha256 [32]byte
//	4064 sha256 of bytes 0–4063
//
//	file block (4 KiB just before each file's bytes)
//	0    magic "KDKFILE2"      8 bytes
//	8    generation            u64
//	16   size                  u64
//	24   name                  [32]byte
//	56   sha256 of bytes 0–55
//
// Why a cut capture never reads back as a dump, and never as the wrong
// one: the capture writes zeros over the header and Syncs before the first
// byte of data, writes the files, Syncs, and only then writes the header
// and Syncs again. On a device that honours Sync, a power cut before the
// first Sync leaves at most the zeroing unwritten, and nothing else: the
// older dump is still there whole, as it was (no byte of the new capture
// reached the medium). A cut after it leaves a zeroed header (ErrNoDump)
// until the final header lands whole (its own sha256 rejects a torn one),
// and that header comes after the data's Sync. The generation is for the
// devices that do not honour Sync (and for a reader that checks only the
// header): an older header that survived names its generation, and every
// file block a later capture rewrote carries another one, so
// ReadDiskHeader refuses the mix without reading the data; the header's
// per-file sha256, checked by ExtractDisk, is the last word on the bytes.
//
// Version 1 (no generation, no file blocks) is refused: its header cannot
// be told from one that outlived a cut capture, which is what version 2
// exists to rule out, and the host and the capture tool ship together
// (the initramfs is built from the same tree), so a version 1 disk is an
// older kdumpkit's, to be read with that kdumpkit.
const (
	diskMagic      = "KDKDUMP1"
	diskVersion    = 2
	diskHeaderSize = 4096
	diskBlockSize  = 4096 // the file block and the alignment of every region
	diskMaxFiles   = 8
	diskEntrySize  = 80
	diskEntries    = 32 // offset of the first entry
	fileMagic      = "KDKFILE2"
	fileBlockUsed  = 56 // bytes of the file block the sha256 covers
)

// Disk errors.
var (
	// ErrNoDump means a disk holds no valid kdumpkit header.
	ErrNoDump = errors.New("no kdumpkit dump on disk")
	// ErrDiskVersion means a valid header of a layout this kdumpkit
	// does not read.
	ErrDiskVersion = errors.New("disk header version not read by this kdumpkit")
	// ErrTorn means the header is whole but a file region does not
	// belong to it: a later capture rewrote it, or it was never written.
	ErrTorn = errors.New("a file region does not belong to the header")
)

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
	// Generation identifies this capture's writes; 0 means pick a
	// random one when the device is opened.
	Generation uint64

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
	d, size, err := t.openDevice()
	if err != nil {
		return err
	}
	t.d, t.Size, t.off = d, size, diskHeaderSize
	for t.Generation == 0 {
		var b [8]byte
		if _, err := rand.Read(b[:]); err != nil {
			return fmt.Errorf("picking a generation: %w", err)
		}
		t.Generation = binary.LittleEndian.Uint64(b[:])
	}
	// Invalidate any older dump, durably, before a byte of this one is
	// written: a device may reorder unsynced writes.
	if _, err := t.d.WriteAt(make([]byte, diskHeaderSize), 0); err != nil {
		return fmt.Errorf("zeroing the header: %w", err)
	}
	if err := t.d.Sync(); err != nil {
		return fmt.Errorf("syncing the zeroed header: %w", err)
	}
	return nil
}

func (t *DiskTarget) openDevice() (Disk, int64, error) {
	if t.Open != nil {
		return t.Open(t.Path)
	}
	f, err := os.OpenFile(t.Path, os.O_WRONLY, 0)
	if err != nil {
		return nil, 0, err
	}
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, size, nil
}

// Put writes one file's block and bytes at the next aligned offset.
func (t *DiskTarget) Put(ctx context.Context, name string, r io.Reader, size int64) (string, error) {
	if len(t.files) == diskMaxFiles || len(name) > 32 {
		return "", fmt.Errorf("disk header holds %d files of names ≤ 32 bytes", diskMaxFiles)
	}
	if size < 0 {
		return "", fmt.Errorf("%s: size %d", name, size)
	}
	if err := t.open(); err != nil {
		return "", err
	}
	data := t.off + diskBlockSize
	if data > t.Size || size > t.Size-data {
		return "", fmt.Errorf("%s (%d bytes) does not fit: %s has %d bytes, %d free", name, size, t.Path, t.Size, max(0, t.Size-data))
	}
	if _, err := t.d.WriteAt(encodeFileBlock(name, size, t.Generation), t.off); err != nil {
		return "", err
	}
	sha, err := copyHashed(io.NewOffsetWriter(t.d, data), r, size)
	if err != nil {
		return "", err
	}
	t.files = append(t.files, FileInfo{name, size, sha})
	t.offs = append(t.offs, data)
	t.off = data + (size+diskBlockSize-1)&^(diskBlockSize-1)
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
	h := encodeHeader(t.files, t.offs, time.Now(), t.Generation)
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

func encodeHeader(files []FileInfo, offs []int64, now time.Time, gen uint64) []byte {
	h := make([]byte, diskHeaderSize)
	le := binary.LittleEndian
	copy(h, diskMagic)
	le.PutUint32(h[8:], diskVersion)
	le.PutUint32(h[12:], uint32(len(files)))
	le.PutUint64(h[16:], uint64(now.Unix()))
	le.PutUint64(h[24:], gen)
	for i, f := range files {
		e := h[diskEntries+i*diskEntrySize:]
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

func encodeFileBlock(name string, size int64, gen uint64) []byte {
	b := make([]byte, diskBlockSize)
	le := binary.LittleEndian
	copy(b, fileMagic)
	le.PutUint64(b[8:], gen)
	le.PutUint64(b[16:], uint64(size))
	copy(b[24:56], name)
	sum := sha256.Sum256(b[:fileBlockUsed])
	copy(b[fileBlockUsed:], sum[:])
	return b
}

// DiskEntry is one file recorded in a disk header.
type DiskEntry struct {
	FileInfo
	Offset int64
}

// DiskHeader is a decoded raw-disk header.
type DiskHeader struct {
	Time       time.Time
	Generation uint64 // the capture's, also in every file block
	Entries    []DiskEntry
}

// ReadDiskHeader decodes the header of a raw dump disk or image of
// diskSize bytes, checking its own hash, that every file lies inside, and
// that every file's block carries the header's generation.
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
	if v := le.Uint32(h[8:]); v != diskVersion {
		return nil, fmt.Errorf("%w: version %d, want %d (version 1 carries no generation: read it with the kdumpkit that wrote it)", ErrDiskVersion, v, diskVersion)
	}
	n := le.Uint32(h[12:])
	if n > diskMaxFiles {
		return nil, fmt.Errorf("header lists %d files, at most %d fit", n, diskMaxFiles)
	}
	dh := &DiskHeader{Time: time.Unix(int64(le.Uint64(h[16:])), 0).UTC(), Generation: le.Uint64(h[24:])}
	for i := 0; i < int(n); i++ {
		e, err := decodeEntry(r, h[diskEntries+i*diskEntrySize:], diskSize, dh.Generation)
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", i, err)
		}
		dh.Entries = append(dh.Entries, e)
	}
	return dh, nil
}

// decodeEntry decodes one header entry and checks it against its file
// block.
func decodeEntry(r io.ReaderAt, e []byte, diskSize int64, gen uint64) (DiskEntry, error) {
	le := binary.LittleEndian
	off, size := int64(le.Uint64(e[32:])), int64(le.Uint64(e[40:]))
	if off < diskHeaderSize+diskBlockSize || size < 0 || off > diskSize || size > diskSize-off {
		return DiskEntry{}, fmt.Errorf("bytes %#x+%#x outside the %d-byte disk", off, size, diskSize)
	}
	name := string(bytes.TrimRight(e[:32], "\x00"))
	b := make([]byte, fileBlockUsed+32)
	if _, err := r.ReadAt(b, off-diskBlockSize); err != nil {
		return DiskEntry{}, fmt.Errorf("reading the file block at %#x: %w", off-diskBlockSize, err)
	}
	sum := sha256.Sum256(b[:fileBlockUsed])
	switch {
	case string(b[:8]) != fileMagic || !bytes.Equal(sum[:], b[fileBlockUsed:]):
		return DiskEntry{}, fmt.Errorf("%w: no valid file block at %#x", ErrTorn, off-diskBlockSize)
	case le.Uint64(b[8:]) != gen:
		return DiskEntry{}, fmt.Errorf("%w: the file block at %#x is of generation %#x, the header's is %#x", ErrTorn, off-diskBlockSize, le.Uint64(b[8:]), gen)
	case int64(le.Uint64(b[16:])) != size || string(bytes.TrimRight(b[24:56], "\x00")) != name:
		return DiskEntry{}, fmt.Errorf("%w: the file block at %#x names %q of %d bytes, the header %q of %d", ErrTorn, off-diskBlockSize,
			bytes.TrimRight(b[24:56], "\x00"), int64(le.Uint64(b[16:])), name, size)
	}
	return DiskEntry{FileInfo{name, size, hex.EncodeToString(e[48:80])}, off}, nil
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
