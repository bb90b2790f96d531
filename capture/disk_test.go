package capture

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// diskTarget is a target on a disk image file of size bytes.
func diskTarget(t *testing.T, size int64) (*DiskTarget, string) {
	img := filepath.Join(t.TempDir(), "disk.img")
	os.WriteFile(img, nil, 0o644)
	os.Truncate(img, size)
	return &DiskTarget{Label: "disk:" + img, Path: img}, img
}

func TestDiskRoundTrip(t *testing.T) {
	dt, img := diskTarget(t, 8<<20)
	m, err := Save(context.Background(), src(), []Target{dt}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	h, err := ExtractDisk(img, out)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Entries) != 3 || h.Generation == 0 || h.Generation != dt.Generation {
		t.Errorf("generation %#x (target %#x), entries %+v", h.Generation, dt.Generation, h.Entries)
	}
	got, err := ReadManifest(out)
	if err != nil || got.Target != m.Target {
		t.Fatalf("manifest %+v, %v", got, err)
	}
	if b, _ := os.ReadFile(filepath.Join(out, VmcoreName)); !bytes.Equal(b, vmcore) {
		t.Error("vmcore differs after the disk round trip")
	}
}

func TestDiskTooSmallFallsBackAndLeavesNoHeader(t *testing.T) {
	small, img := diskTarget(t, 1<<20)
	// An older, valid dump on the disk must not survive a failed capture.
	old, _ := diskTarget(t, 8<<20)
	old.Path = img
	os.Truncate(img, 8<<20)
	if _, err := Save(context.Background(), src(), []Target{old}, io.Discard); err != nil {
		t.Fatal(err)
	}
	os.Truncate(img, 1<<20)
	dir := t.TempDir()
	var console bytes.Buffer
	if _, err := Save(context.Background(), src(), []Target{small, &DirTarget{Label: "dir", Dir: dir}}, &console); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(console.String(), "does not fit") {
		t.Errorf("console:\n%s", console.String())
	}
	if _, err := ExtractDisk(img, t.TempDir()); !errors.Is(err, ErrNoDump) {
		t.Errorf("a failed capture left a valid header: %v", err)
	}
}

// journal is a Disk that records every write, split into 512-byte
// sectors (a device persists a large write sector by sector), and every
// Sync, so a test can rebuild the medium as a power cut at any point
// may leave it.
type journal struct {
	ops []diskOp
}

// diskOp is one sector write, or a Sync when data is nil.
type diskOp struct {
	off  int64
	data []byte
}

const sector = 512

func (j *journal) WriteAt(p []byte, off int64) (int, error) {
	for i := 0; i < len(p); i += sector {
		j.ops = append(j.ops, diskOp{off + int64(i), bytes.Clone(p[i:min(i+sector, len(p))])})
	}
	return len(p), nil
}

func (j *journal) Sync() error  { j.ops = append(j.ops, diskOp{}); return nil }
func (j *journal) Close() error { return nil }

// apply writes ops onto img.
func apply(img []byte, ops []diskOp) {
	for _, op := range ops {
		copy(img[op.off:], op.data)
	}
}

// cutStates is every medium a power cut after the first k operations
// may leave: what the last Sync covered is there; of the unsynced writes
// after it, none, all, each one alone, all but each one, or each prefix.
func cutStates(base []byte, ops []diskOp, k int) map[string][]byte {
	synced := 0
	for i, op := range ops[:k] {
		if op.data == nil {
			synced = i + 1
		}
	}
	var window []diskOp
	for _, op := range ops[synced:k] {
		if op.data != nil {
			window = append(window, op)
		}
	}
	durable := bytes.Clone(base)
	apply(durable, ops[:synced])
	states := map[string][]byte{}
	with := func(name string, pick func(i int) bool) {
		img := bytes.Clone(durable)
		for i, op := range window {
			if pick(i) {
				apply(img, []diskOp{op})
			}
		}
		states[name] = img
	}
	with("none of the unsynced writes", func(int) bool { return false })
	with("all unsynced writes", func(int) bool { return true })
	for j := range window {
		with(fmt.Sprintf("only unsynced write %d", j), func(i int) bool { return i == j })
		with(fmt.Sprintf("all unsynced writes but %d", j), func(i int) bool { return i != j })
		with(fmt.Sprintf("the first %d unsynced writes", j), func(i int) bool { return i < j })
	}
	return states
}

// powerCutSource is a small dump, with files of the sizes the older one
// had so the two layouts coincide, as they would on a real board.
func powerCutSource(fill string) (Source, []byte) {
	core := bytes.Repeat([]byte(fill), 9000/len(fill))
	return Source{Vmcore: bytes.NewReader(core), VmcoreSize: int64(len(core)), Dmesg: bytes.Repeat([]byte(fill[:1]), 700), Release: "6.1.0"}, core
}

// TestDiskPowerCutAtEveryWrite starts from a disk holding a valid older
// dump, records a new capture's every write and Sync, and rebuilds the
// medium as a power cut at each point may leave it: the disk then holds
// no dump, the complete new one, or (only when not a byte of the new
// capture reached it) the untouched older one — never the older header
// over newer bytes, never a complete-looking mix.
func TestDiskPowerCutAtEveryWrite(t *testing.T) {
	const size = 64 << 10
	oldJ, newJ := &journal{}, &journal{}
	oldSrc, oldCore := powerCutSource("old dump bytes.\n")
	newSrc, newCore := powerCutSource("NEW DUMP BYTES!\n")
	save := func(j *journal, s Source) *Manifest {
		dt := &DiskTarget{Label: "disk:/dev/vda", Open: func(string) (Disk, int64, error) { return j, size, nil }}
		m, err := Save(context.Background(), s, []Target{dt}, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	oldM, newM := save(oldJ, oldSrc), save(newJ, newSrc)
	base := make([]byte, size)
	apply(base, oldJ.ops)
	oldSHA, newSHA := shaOf(oldCore), shaOf(newCore)
	if oldV, _ := oldM.File(VmcoreName); oldV.SHA256 != oldSHA {
		t.Fatal("the older dump's manifest does not match its vmcore")
	}
	if v, _ := newM.File(VmcoreName); v.SHA256 != newSHA {
		t.Fatal("the new dump's manifest does not match its vmcore")
	}
	checked := 0
	for k := 0; k <= len(newJ.ops); k++ {
		for how, img := range cutStates(base, newJ.ops, k) {
			desc := fmt.Sprintf("cut after %d of %d operations, %s", k, len(newJ.ops), how)
			checkCut(t, desc, img, base, map[string][]byte{oldSHA: oldCore, newSHA: newCore}, newSHA)
			checked++
		}
	}
	final := bytes.Clone(base)
	apply(final, newJ.ops)
	if h, err := ReadDiskHeader(bytes.NewReader(final), size); err != nil || vmcoreSHA(h) != newSHA {
		t.Errorf("the completed capture does not read back: %v", err)
	}
	t.Logf("%d operations, %d medium states checked", len(newJ.ops), checked)
}

// checkCut checks one medium state: no dump, or a dump that extracts
// whole; the older dump only on a medium the new capture never touched.
func checkCut(t *testing.T, desc string, img, base []byte, cores map[string][]byte, newSHA string) {
	t.Helper()
	h, err := ReadDiskHeader(bytes.NewReader(img), int64(len(img)))
	if err != nil {
		if !errors.Is(err, ErrNoDump) && !errors.Is(err, ErrTorn) {
			t.Errorf("%s: %v, want no dump", desc, err)
		}
		return
	}
	got := vmcoreSHA(h)
	if got != newSHA && !bytes.Equal(img, base) {
		t.Errorf("%s: the header is the older dump's, over a medium the new capture wrote to", desc)
		return
	}
	p := filepath.Join(t.TempDir(), "disk.img")
	os.WriteFile(p, img, 0o644)
	out := t.TempDir()
	if _, err := ExtractDisk(p, out); err != nil {
		t.Errorf("%s: a valid header whose files do not extract: %v", desc, err)
		return
	}
	if b, _ := os.ReadFile(filepath.Join(out, VmcoreName)); !bytes.Equal(b, cores[got]) {
		t.Errorf("%s: the extracted vmcore is not the one its header names", desc)
	}
}

func vmcoreSHA(h *DiskHeader) string {
	for _, e := range h.Entries {
		if e.Name == VmcoreName {
			return e.SHA256
		}
	}
	return ""
}

// TestDiskStaleHeaderOverNewerFiles: a device that dropped the zeroing
// (it ignored the Sync) keeps the older header while the new capture's
// files land; the file blocks' generation refuses the mix from the
// header alone.
func TestDiskStaleHeaderOverNewerFiles(t *testing.T) {
	const size = 64 << 10
	oldJ, newJ := &journal{}, &journal{}
	for _, c := range []struct {
		j    *journal
		fill string
	}{{oldJ, "old dump bytes.\n"}, {newJ, "NEW DUMP BYTES!\n"}} {
		s, _ := powerCutSource(c.fill)
		dt := &DiskTarget{Label: "disk", Open: func(string) (Disk, int64, error) { return c.j, size, nil }}
		if _, err := Save(context.Background(), s, []Target{dt}, io.Discard); err != nil {
			t.Fatal(err)
		}
	}
	img := make([]byte, size)
	apply(img, oldJ.ops)
	for _, op := range newJ.ops {
		if op.off >= diskHeaderSize { // every write but the header's zeroing and the final header
			apply(img, []diskOp{op})
		}
	}
	_, err := ReadDiskHeader(bytes.NewReader(img), size)
	if !errors.Is(err, ErrTorn) || !strings.Contains(err.Error(), "generation") {
		t.Errorf("the older header over the newer files: %v, want %v naming the generations", err, ErrTorn)
	}
}

// TestDiskVersion1Refused: a version 1 header carries no generation.
func TestDiskVersion1Refused(t *testing.T) {
	h := encodeHeader(nil, nil, time.Unix(0, 0), 1)
	h[8] = 1
	sum := sha256.Sum256(h[:diskHeaderSize-32])
	copy(h[diskHeaderSize-32:], sum[:])
	if _, err := ReadDiskHeader(bytes.NewReader(h), int64(len(h))); !errors.Is(err, ErrDiskVersion) || !strings.Contains(err.Error(), "version 1") {
		t.Errorf("err = %v, want %v naming version 1", err, ErrDiskVersion)
	}
}

func FuzzReadDiskHeader(f *testing.F) {
	one := make([]byte, 3*diskBlockSize)
	copy(one, encodeHeader([]FileInfo{{VmcoreName, 100, shaOf([]byte("x"))}}, []int64{2 * diskBlockSize}, time.Unix(0, 0), 7))
	copy(one[diskBlockSize:], encodeFileBlock(VmcoreName, 100, 7))
	f.Add(one)
	f.Add(make([]byte, 4096))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ReadDiskHeader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		for _, e := range h.Entries {
			if e.Offset < diskHeaderSize+diskBlockSize || e.Offset+e.Size > int64(len(b)) {
				t.Fatalf("entry %+v outside %d bytes", e, len(b))
			}
			// An accepted entry has a file block of the header's generation.
			blk := b[e.Offset-diskBlockSize:]
			if string(blk[:8]) != fileMagic || binary.LittleEndian.Uint64(blk[8:]) != h.Generation {
				t.Fatalf("entry %+v accepted without a file block of generation %#x", e, h.Generation)
			}
		}
	})
}
