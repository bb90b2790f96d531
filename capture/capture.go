package capture

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// ErrAllTargetsFailed means no target took the dump.
var ErrAllTargetsFailed = errors.New("every dump target failed")

// File names in a dump.
const (
	VmcoreName   = "vmcore"
	DmesgName    = "dmesg.txt"
	ManifestName = "manifest.json"
)

// Target stores a dump's files. Put stores one file whole or not at all
// and returns its SHA-256; Commit makes the set visible (the manifest is
// Put before Commit).
type Target interface {
	Name() string
	Put(ctx context.Context, name string, r io.Reader, size int64) (sha string, err error)
	Commit() error
	// Abort discards what Put stored so far.
	Abort()
}

// FileInfo is one saved file.
type FileInfo struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Manifest describes a saved dump.
type Manifest struct {
	Release string `json:"release,omitempty"`
	// Format is the vmcore's: FormatELF, FormatKdump or FormatKdumpFlat;
	// Detail says how it was made (the dump level and compression).
	Format string     `json:"format,omitempty"`
	Detail string     `json:"detail,omitempty"`
	Time   time.Time  `json:"time"`
	Target string     `json:"target"`
	Files  []FileInfo `json:"files"`
	// KernelSource is where the host built the kernel from, as its build
	// log says it ("tree /src/linux (git v6.1-…, dirty: 2 changed and 0
	// untracked file(s))"): the board cannot know it, so the host adds it
	// when the dump is home (RecordKernelSource).
	KernelSource string `json:"kernel_source,omitempty"`
}

// File returns the manifest's entry for name.
func (m *Manifest) File(name string) (FileInfo, bool) {
	for _, f := range m.Files {
		if f.Name == name {
			return f, true
		}
	}
	return FileInfo{}, false
}

// Source is what to save.
type Source struct {
	Vmcore     io.ReaderAt
	VmcoreSize int64
	// Compressed, when set, makes the vmcore instead of a copy of Vmcore:
	// it writes a kdump-compressed dump through out (dumpconv.Convert),
	// in place on an AtTarget, else as a flattened stream. It may be
	// called more than once and must write the same bytes each time.
	Compressed func(out io.WriterAt) error
	Detail     string // the manifest's Detail for Compressed
	Dmesg      []byte // nil when the log could not be read
	Release    string
}

// Save stores src on the first target that takes it whole, printing one
// line per fallback and progress while the vmcore is written.
func Save(ctx context.Context, src Source, targets []Target, console io.Writer) (*Manifest, error) {
	var errs []error
	for i, t := range targets {
		m, err := saveOne(ctx, src, t, console)
		if err == nil {
			return m, nil
		}
		t.Abort()
		errs = append(errs, fmt.Errorf("%s: %w", t.Name(), err))
		next := "no targets left"
		if i+1 < len(targets) {
			next = "trying " + targets[i+1].Name()
		}
		fmt.Fprintf(console, "capture: target %s failed: %v; %s\n", t.Name(), err, next)
	}
	return nil, fmt.Errorf("%w: %w", ErrAllTargetsFailed, errors.Join(errs...))
}

func saveOne(ctx context.Context, src Source, t Target, console io.Writer) (*Manifest, error) {
	m := &Manifest{Release: src.Release, Time: time.Now().UTC(), Target: t.Name()}
	if src.Dmesg != nil {
		sha, err := t.Put(ctx, DmesgName, bytesReader(src.Dmesg), int64(len(src.Dmesg)))
		if err != nil {
			return nil, fmt.Errorf("write %s: %w", DmesgName, err)
		}
		m.Files = append(m.Files, FileInfo{DmesgName, int64(len(src.Dmesg)), sha})
	}
	if src.Compressed != nil {
		fi, format, err := saveCompressed(ctx, src, t, console)
		if err != nil {
			return nil, fmt.Errorf("write %s: %w", VmcoreName, err)
		}
		m.Format, m.Detail = format, src.Detail
		m.Files = append(m.Files, fi)
	} else {
		p := &progress{w: console, total: src.VmcoreSize, start: time.Now(), last: time.Now()}
		r := io.TeeReader(&errorAt{r: io.NewSectionReader(src.Vmcore, 0, src.VmcoreSize)}, p)
		sha, err := t.Put(ctx, VmcoreName, r, src.VmcoreSize)
		if err != nil {
			return nil, fmt.Errorf("write %s: %w", VmcoreName, err)
		}
		p.done()
		m.Format = FormatELF
		m.Files = append(m.Files, FileInfo{VmcoreName, src.VmcoreSize, sha})
	}
	js, _ := json.MarshalIndent(m, "", "  ")
	js = append(js, '\n')
	if _, err := t.Put(ctx, ManifestName, bytesReader(js), int64(len(js))); err != nil {
		return nil, fmt.Errorf("write %s: %w", ManifestName, err)
	}
	if err := t.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	return m, nil
}

// errorAt names the source offset of a read error: "reading the vmcore at
// offset 0x1234: input/output error".
type errorAt struct {
	r   io.Reader
	off int64
}

func (e *errorAt) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	e.off += int64(n)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("reading the vmcore at offset %#x: %w", e.off, err)
	}
	return n, err
}

// copyHashed copies exactly size bytes from r to w and returns the
// SHA-256; a short source is an error, never a short file.
func copyHashed(w io.Writer, r io.Reader, size int64) (string, error) {
	h := sha256.New()
	n, err := io.CopyBuffer(io.MultiWriter(w, h), io.LimitReader(r, size), make([]byte, 1<<20))
	if err != nil {
		return "", err
	}
	if n != size {
		return "", fmt.Errorf("source ended after %d of %d bytes", n, size)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// progress prints percent and MB/s at most every two seconds.
type progress struct {
	w           io.Writer
	total, n    int64
	start, last time.Time
}

func (p *progress) Write(b []byte) (int, error) {
	p.n += int64(len(b))
	if now := time.Now(); now.Sub(p.last) >= 2*time.Second {
		p.last = now
		p.print(now)
	}
	return len(b), nil
}

func (p *progress) print(now time.Time) {
	secs := now.Sub(p.start).Seconds()
	pct := 100.0
	if p.total > 0 {
		pct = 100 * float64(p.n) / float64(p.total)
	}
	fmt.Fprintf(p.w, "capture: vmcore %3.0f%% %d/%d MiB %.1f MB/s\n", pct, p.n>>20, p.total>>20, float64(p.n)/1e6/max(secs, 1e-3))
}

func (p *progress) done() { p.print(time.Now()) }
