package kernel

import (
	"debug/elf"
	"fmt"
	"io"
	"path/filepath"
	"sync"

	"github.com/kdumpkit/kdumpkit/analyze/dump"
	"github.com/kdumpkit/kdumpkit/analyze/symbols"
	"github.com/kdumpkit/kdumpkit/analyze/types"
	"github.com/kdumpkit/kdumpkit/analyze/unwind"
)

// Image is what the analyzer takes from a vmlinux.
type Image struct {
	Path    string
	ELF     *elf.File // nil for a KallsymsImage
	Machine elf.Machine
	Syms    *symbols.Table
	Types   *types.Types    // nil without DWARF
	Unwind  unwind.Unwinder // nil for images without unwind tables
	BuildID []byte
	// Banner is linux_banner as the file holds it, for the match check
	// when there is no build ID to compare; BannerErr says why it is "".
	Banner    string
	BannerErr error
	// file is the opened vmlinux: elf.NewFile does not close what it reads.
	file io.Closer
	// saving is the symbol table being written to its cache file.
	saving sync.WaitGroup
	// Warnings are reasons some abilities are missing (no DWARF...).
	Warnings []error
}

// LoadImage opens a vmlinux. Missing DWARF or unwind tables are warnings
// (sys and log still work); a file that is not an ELF executable with a
// symbol table is an error. When cacheDir is not empty the DWARF name index
// is kept there, in a file named after the vmlinux BUILD-ID. A non-zero
// want (the dump's machine) refuses an image of another architecture before
// anything large is read.
func LoadImage(path, cacheDir string, want elf.Machine) (*Image, error) {
	file, err := dump.OpenRegular(path)
	if err != nil {
		return nil, fmt.Errorf("vmlinux: %w", err)
	}
	f, err := elf.NewFile(file)
	if err != nil {
		file.Close()
		return nil, fmt.Errorf("vmlinux %s: %w", path, err)
	}
	if want != elf.EM_NONE && f.Machine != want {
		file.Close()
		return nil, fmt.Errorf("%w: vmlinux %s is %v, the vmcore is %v", ErrMachineMismatch, path, f.Machine, want)
	}
	// DWARF (its index cache, the first unit header) loads on the other
	// core while the symbols and unwind tables load here; that core then
	// indexes the first sixteenth of .debug_info (where the core kernel
	// types are) ahead of the commands, and the index grows further as
	// they ask for names.
	type typesResult struct {
		t   *types.Types
		err error
	}
	done := make(chan typesResult, 1)
	id, idErr := symbols.BuildID(f)
	go func() {
		t, err := types.Open(path)
		if err == nil {
			if idErr == nil && cacheDir != "" {
				t.UseIndexCache(filepath.Join(cacheDir, fmt.Sprintf("dwarf-index-%x", id)))
			}
			err = t.Preload()
		}
		done <- typesResult{t, err}
		if err == nil {
			t.Prefetch(16)
		}
	}()
	symCache := ""
	if idErr == nil && cacheDir != "" {
		symCache = filepath.Join(cacheDir, fmt.Sprintf("symbols-%x", id))
	}
	img, err := imageFromELF(path, f, symCache)
	r := <-done
	if err != nil {
		r.t.Close()
		file.Close()
		return nil, err
	}
	img.file = file
	if r.err != nil {
		r.t.Close()
		img.Warnings = append(img.Warnings, fmt.Errorf("vmlinux %s: %w: ps, bt, struct and the task fields of sys need it", path, r.err))
	} else {
		img.Types = r.t
	}
	return img, nil
}

// imageFromELF reads what the analyzer takes from the vmlinux besides
// DWARF. symCache, when not "", is the symbol table's cache file.
func imageFromELF(path string, f *elf.File, symCache string) (*Image, error) {
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return nil, fmt.Errorf("vmlinux %s: ELF type %v, want an executable kernel image", path, f.Type)
	}
	img := &Image{Path: path, ELF: f, Machine: f.Machine}
	if err := img.loadSymbols(f, symCache); err != nil {
		return nil, fmt.Errorf("vmlinux %s: %w", path, err)
	}
	var err error
	if img.BuildID, err = symbols.BuildID(f); err != nil {
		img.Warnings = append(img.Warnings, fmt.Errorf("vmlinux %s: %w", path, err))
	}
	img.Banner, img.BannerErr = symbols.Banner(f, img.Syms)
	if img.Unwind, err = unwind.For(f); err != nil {
		img.Warnings = append(img.Warnings, fmt.Errorf("vmlinux %s: %w: bt needs it", path, err))
	}
	return img, nil
}

// loadSymbols reads the symbol table from its cache file when that holds
// one, else decodes it from the ELF file (most of the time of opening a
// vmlinux) and saves it for the next run on another goroutine, which
// Close waits for.
func (img *Image) loadSymbols(f *elf.File, cache string) error {
	if cache != "" {
		if t, err := symbols.Load(cache); err == nil {
			img.Syms = t
			return nil
		}
	}
	t, err := symbols.FromELF(f)
	if err != nil {
		return err
	}
	img.Syms = t
	if cache != "" {
		img.saving.Go(func() { _ = t.Save(cache) }) // a cache we cannot write only costs time
	}
	return nil
}

// Close releases the vmlinux file and its mapping.
func (img *Image) Close() error {
	img.saving.Wait()
	img.Types.Close()
	if img.file == nil {
		return nil
	}
	return img.file.Close()
}

// KallsymsImage stands in for a missing vmlinux: symbols from the dump's own
// kallsyms tables, no types and no unwind tables, so sys, log, sym and rd
// work and the rest says what it lacks.
func KallsymsImage(d Dump) (*Image, error) {
	syms, err := symbols.FromKallsyms(d, d.VMCOREINFO(), d.ByteOrder(), d.PtrSize())
	if err != nil {
		return nil, fmt.Errorf("%s without a vmlinux: %w", d.Path(), err)
	}
	return &Image{
		Path: "(kallsyms from " + d.Path() + ")", Machine: d.Machine(), Syms: syms,
		Warnings: []error{fmt.Errorf("no vmlinux: %w: ps, bt and struct need one", types.ErrNoDWARF)},
	}, nil
}
