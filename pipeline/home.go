package pipeline

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/kdumpkit/kdumpkit/capture"
	"github.com/kdumpkit/kdumpkit/protocol"
	"github.com/kdumpkit/kdumpkit/qemu"
)

// Names the run itself writes in a dump directory; files the board left
// are never moved over them.
const (
	consoleName = "console.log"
	diskName    = "disk.img" // the raw disk kept when its files could not be extracted
)

// newDumpDir makes a new directory for a run's dump, named by its start
// time; a second run in the same second gets "-2", "-3"…, never the
// first one's directory.
func newDumpDir(dumps string, start time.Time) (string, error) {
	if err := os.MkdirAll(dumps, 0o755); err != nil {
		return "", err
	}
	name := filepath.Join(dumps, start.UTC().Format("20060102-150405"))
	for i := 2; ; i++ {
		err := os.Mkdir(name, 0o755)
		if !errors.Is(err, os.ErrExist) {
			return name, err
		}
		name = filepath.Join(dumps, fmt.Sprintf("%s-%d", start.UTC().Format("20060102-150405"), i))
	}
}

// scratch is where the board writes its dump during a run: a directory
// exported as 9p and a sparse raw disk image, both inside the dump
// directory so moving their files home is a rename.
type scratch struct {
	share, disk string
	http        string // a U-Boot board's HTTP receiver files uploads here
}

func newScratch(dir string, diskSize int64) (scratch, error) {
	sc := scratch{share: filepath.Join(dir, ".share"), disk: filepath.Join(dir, ".disk.img"), http: filepath.Join(dir, ".http")}
	if err := os.MkdirAll(sc.share, 0o755); err != nil {
		return sc, err
	}
	f, err := os.Create(sc.disk)
	if err != nil {
		return sc, err
	}
	if err := f.Truncate(diskSize); err != nil {
		f.Close()
		return sc, err
	}
	return sc, f.Close()
}

// homecoming is what a run brought into its dump directory.
type homecoming struct {
	files    []string // moved into the dump directory
	kept     []string // scratch kept whole because its content could not be moved out
	problems []string // one line each, for UnverifiedName
}

// any says whether anything of the board's reached the dump directory.
func (h *homecoming) any() bool { return len(h.files)+len(h.kept) > 0 }

func (h *homecoming) problem(format string, a ...any) {
	h.problems = append(h.problems, fmt.Sprintf(format, a...))
}

// bringHome moves whatever the board left in the share and on the raw
// disk into dir. A scratch file or directory is deleted only when its
// content was moved out whole or it held nothing; otherwise it stays in
// dir and a problem line says where.
func bringHome(dir string, sc scratch) *homecoming {
	h := &homecoming{}
	h.moveAll(sc.share, dir)
	if err := os.Remove(sc.share); err != nil && !errors.Is(err, os.ErrNotExist) {
		h.kept = append(h.kept, sc.share)
		h.problem("the 9p share still holds files that could not be moved: %s", sc.share)
	}
	h.fromHTTP(sc.http, dir)
	h.fromDisk(sc.disk, dir)
	return h
}

// fromHTTP moves the uploads the receiver filed (each verified against
// its manifest as it committed) into dir. An upload that never committed
// stays in the receiver's .incoming directory, kept, and a problem says
// so: it is a dump cut short, never one to take for whole.
func (h *homecoming) fromHTTP(from, dir string) {
	ents, err := os.ReadDir(from)
	if errors.Is(err, os.ErrNotExist) {
		return
	}
	if err != nil {
		h.problem("reading %s: %v", from, err)
		return
	}
	for _, e := range ents {
		sub := filepath.Join(from, e.Name())
		switch {
		case e.Name() == ".incoming":
			if in, _ := os.ReadDir(sub); len(in) > 0 {
				h.kept = append(h.kept, sub)
				h.problem("an HTTP upload did not complete; what arrived is kept in %s", sub)
			}
		case e.IsDir():
			before := len(h.problems)
			h.moveAll(sub, dir)
			if len(h.problems) == before {
				os.Remove(sub)
			}
		}
	}
	os.Remove(filepath.Join(from, ".incoming"))
	if err := os.Remove(from); err != nil && !h.keeps(from) {
		h.kept = append(h.kept, from)
		h.problem("the HTTP receiver's directory still holds files that could not be moved: %s", from)
	}
}

// keeps says whether p or a directory under it is already kept.
func (h *homecoming) keeps(p string) bool {
	for _, k := range h.kept {
		if k == p || strings.HasPrefix(k, p+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

// moveAll moves every regular file of from into dir, never over a file
// dir already has and never onto a name the run writes itself.
func (h *homecoming) moveAll(from, dir string) {
	ents, err := os.ReadDir(from)
	if err != nil {
		h.problem("reading %s: %v", from, err)
		return
	}
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue // left in place: from is then kept, and a problem says so
		}
		if err := moveNew(filepath.Join(from, e.Name()), filepath.Join(dir, e.Name())); err != nil {
			h.problem("%s: %v", e.Name(), err)
			continue
		}
		h.files = append(h.files, e.Name())
	}
}

// moveNew renames from to to unless to exists or is one of the run's own
// names: a link fails rather than replace.
func moveNew(from, to string) error {
	if slices.Contains([]string{consoleName, diskName, UnverifiedName}, filepath.Base(to)) {
		return fmt.Errorf("the board wrote a file named like the run's own %s; left in %s", filepath.Base(to), filepath.Dir(from))
	}
	if err := os.Link(from, to); err != nil {
		return fmt.Errorf("not moved (left in %s): %w", filepath.Dir(from), err)
	}
	return os.Remove(from)
}

// fromDisk extracts the raw disk's files into dir when the share gave
// none. The image is deleted when it held no data, when it holds no dump
// while the share gave one (the capture zeroed its header before falling
// back), or when its files came out whole; otherwise it is kept as
// disk.img.
func (h *homecoming) fromDisk(disk, dir string) {
	if !hasData(disk) {
		os.Remove(disk)
		return
	}
	shareGave := len(h.files) > 0
	tmp := filepath.Join(dir, ".disk-files")
	err := os.MkdirAll(tmp, 0o755)
	if err == nil {
		_, err = capture.ExtractDisk(disk, tmp)
	}
	switch {
	case shareGave && errors.Is(err, capture.ErrNoDump):
		os.Remove(disk)
	case shareGave:
		h.keepDisk(disk, dir, "the raw disk holds a dump too, besides the share's")
	case err != nil:
		h.keepDisk(disk, dir, fmt.Sprintf("its files could not be extracted: %v", err))
	default:
		before := len(h.problems)
		h.moveAll(tmp, dir)
		if len(h.problems) > before {
			h.keepDisk(disk, dir, "not every file on it could be moved home")
		} else {
			os.Remove(disk)
		}
	}
	os.RemoveAll(tmp) // only copies of what is on the disk or already home
}

func (h *homecoming) keepDisk(disk, dir, why string) {
	kept := filepath.Join(dir, diskName)
	if err := os.Rename(disk, kept); err != nil {
		kept = disk
	}
	h.kept = append(h.kept, kept)
	h.problem("raw disk kept as %s: %s", kept, why)
}

// hasData says whether a sparse image had anything written to it; when
// the file system cannot tell, it says yes.
func hasData(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false // nothing to keep
	}
	defer f.Close()
	_, err = unix.Seek(int(f.Fd()), 0, unix.SEEK_DATA)
	return !errors.Is(err, unix.ENXIO)
}

// verify checks the files home against their manifest and the sha256
// the board printed; it returns one line per problem.
func (k *Kdump) verify(dir string, t *Truth) []string {
	m, err := capture.ReadManifest(dir)
	if err != nil {
		return []string{fmt.Sprintf("%s: %v", capture.ManifestName, err)}
	}
	v, ok := m.File(capture.VmcoreName)
	switch {
	case !ok:
		return []string{fmt.Sprintf("%s lists no %s", capture.ManifestName, capture.VmcoreName)}
	case t.SavedSHA256 == "":
		return []string{fmt.Sprintf("the console never printed %q, so nothing confirms this is the vmcore the board saved", protocol.MarkerSaved)}
	case v.SHA256 != t.SavedSHA256 || v.Size != t.SavedSize:
		return []string{fmt.Sprintf("the vmcore home is %d bytes sha256 %s; the board said it saved %d bytes sha256 %s", v.Size, v.SHA256, t.SavedSize, t.SavedSHA256)}
	}
	fmt.Fprintf(k.Log, "kdump: vmcore %d MiB sha256 %s… verified, from target %s, in %s\n", v.Size>>20, v.SHA256[:min(16, len(v.SHA256))], m.Target, dir)
	return nil
}

// keep marks a failed run's dump directory when anything reached it:
// UnverifiedName gets the failure and every problem, and the error names
// the directory. With nothing home, err is returned as it is.
func keep(dir string, h *homecoming, err error) error {
	if !h.any() {
		return err
	}
	lines := reasonLines(err)
	for _, p := range h.problems {
		if !strings.Contains(strings.Join(lines, "\n"), p) { // a retrieve error already holds them
			lines = append(lines, p)
		}
	}
	marker := filepath.Join(dir, UnverifiedName)
	if werr := os.WriteFile(marker, []byte(strings.Join(lines, "\n")+"\n"), 0o644); werr != nil {
		return fmt.Errorf("%w\n  %w in %s (%s: %w)", err, ErrUnverified, dir, marker, werr)
	}
	return fmt.Errorf("%w\n  %w in %s: %s; why: %s", err, ErrUnverified, dir, strings.Join(append(h.files, h.kept...), ", "), marker)
}

// reasonLines turns a run's error into marker lines: a stage error's
// stage, reason and likely cause (not its console tail), else each line
// of the message.
func reasonLines(err error) []string {
	var se *qemu.StageError
	if errors.As(err, &se) {
		l := fmt.Sprintf("stage %q: %s", se.Stage, se.Reason)
		if se.Cause != "" {
			l += "; likely cause: " + se.Cause
		}
		return []string{oneLine(l)}
	}
	var out []string
	for _, l := range strings.Split(err.Error(), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
