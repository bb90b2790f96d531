package kexec

import (
	"bufio"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/kdumpkit/kdumpkit/analyze/dump"
	"github.com/kdumpkit/kdumpkit/analyze/vmcoreinfo"
)

// ARM64System is what an arm64 kexec_load crash load reads from a
// running kernel beyond System: where the kernel image is, and the
// linear map the capture kernel's dump readers translate through.
type ARM64System struct {
	System // PageOffset is the linear map's base, -(1 << VA_BITS)
	// Kernel is the kernel image, _text to _end: its virtual address from
	// /proc/kallsyms (KASLR'd), its physical one from /proc/iomem.
	Kernel KernelMap
	// PhysOffset is VMCOREINFO's NUMBER(PHYS_OFFSET), the physical
	// address the linear map starts at (memstart_addr). KASLR moves it,
	// below zero too: 0xffffacefc0000000 is a valid value.
	PhysOffset uint64
	VABits     uint64 // NUMBER(VA_BITS)
	PageSize   uint64 // the running kernel's PAGESIZE: kexec_load's segment alignment
}

// KernelMap is the kernel image's place in both address spaces.
type KernelMap struct {
	Vaddr uint64 // _text
	Range        // its physical pages, __pa_symbol(_text) to __pa_symbol(_end) - 1
}

// LinearVaddr is the linear map's address of physical address pa, as the
// kernel's __phys_to_virt computes it (arch/arm64/include/asm/memory.h,
// 6.12): (pa - PHYS_OFFSET) | PAGE_OFFSET, in 64-bit wrapping arithmetic.
func (s *ARM64System) LinearVaddr(pa uint64) uint64 { return (pa - s.PhysOffset) | s.PageOffset }

// ReadARM64System reads under root what ReadSystem reads (without its
// ARM32 PAGE_OFFSET guess), plus the kernel image's addresses from
// /proc/kallsyms and /proc/iomem and VMCOREINFO from /proc/kcore.
func ReadARM64System(root string) (*ARM64System, error) {
	common, res, err := readSystem(root)
	if err != nil {
		return nil, err
	}
	s := &ARM64System{System: *common}
	kcore := filepath.Join(root, "proc/kcore")
	info, err := kcoreVMCOREINFO(kcore)
	if err != nil {
		return nil, err
	}
	if s.VABits, err = info.VABits(); err != nil {
		return nil, fmt.Errorf("%s: %w", kcore, err)
	}
	if s.VABits < 36 || s.VABits > 52 {
		return nil, fmt.Errorf("%s: VMCOREINFO NUMBER(VA_BITS)=%d: want 36 to 52", kcore, s.VABits)
	}
	s.PageOffset = -(uint64(1) << s.VABits)
	if s.PhysOffset, err = info.PhysOffset(); err != nil {
		return nil, fmt.Errorf("%s: %w", kcore, err)
	}
	if s.PageSize = info.PageSize(); s.PageSize != 4<<10 && s.PageSize != 16<<10 && s.PageSize != 64<<10 {
		return nil, fmt.Errorf("%s: VMCOREINFO PAGESIZE=%d: want 4096, 16384 or 65536", kcore, s.PageSize)
	}
	voffset, err := info.KimageVoffset()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", kcore, err)
	}
	kallsyms := filepath.Join(root, "proc/kallsyms")
	syms, err := readKallsyms(kallsyms, "_text", "_stext", "_end")
	if err != nil {
		return nil, err
	}
	s.Kernel, err = kernelMap(res, syms, voffset)
	return s, err
}

// kernelMap places _text.._end in physical memory: /proc/iomem's "Kernel
// data" ends at __pa_symbol(_end - 1) (arch/arm64/kernel/setup.c), so
// _text is _end - _text below it. Two other sources must agree, or
// something is read wrong and the header would be too: "Kernel code"
// starts at _text (6.12) or _stext (6.1), and VMCOREINFO's
// kimage_voffset is _text's virtual minus physical address.
func kernelMap(res []Resource, syms map[string]uint64, voffset uint64) (KernelMap, error) {
	var code, data *Range
	for i := range res {
		switch res[i].Name {
		case "Kernel code":
			code = &res[i].Range
		case "Kernel data":
			data = &res[i].Range
		}
	}
	if code == nil || data == nil {
		return KernelMap{}, errors.New(`/proc/iomem has no "Kernel code" or no "Kernel data" entry: want both, nested under System RAM`)
	}
	text, stext, end := syms["_text"], syms["_stext"], syms["_end"]
	if end <= text || stext < text || end-text > 1<<32 {
		return KernelMap{}, fmt.Errorf("/proc/kallsyms: _text %#x, _stext %#x, _end %#x: want _text <= _stext < _end, under 4 GiB apart", text, stext, end)
	}
	k := KernelMap{Vaddr: text}
	k.End = data.End
	k.Start = data.End + 1 - (end - text)
	if k.Start > data.End || k.Start != code.Start && k.Start+(stext-text) != code.Start {
		return KernelMap{}, fmt.Errorf(`/proc/iomem "Kernel code" %v and "Kernel data" %v do not hold _text.._end (%#x bytes, _stext at +%#x) as 6.1 or 6.12 lay them out`, *code, *data, end-text, stext-text)
	}
	if text-voffset != k.Start {
		return KernelMap{}, fmt.Errorf(`_text %#x at physical %#x by /proc/iomem, but at %#x by VMCOREINFO's kimage_voffset %#x`, text, k.Start, text-voffset, voffset)
	}
	return k, nil
}

// readKallsyms finds the addresses of names in /proc/kallsyms; each must
// be there and readable (root, kptr_restrict < 2).
func readKallsyms(path string, names ...string) (map[string]uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseKallsyms(f, path, names...)
}

// parseKallsyms reads "ADDR TYPE NAME" lines; name is the file's, for
// messages.
func parseKallsyms(r io.Reader, path string, names ...string) (map[string]uint64, error) {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	out := map[string]uint64{}
	sc := bufio.NewScanner(r)
	for sc.Scan() && len(out) < len(want) {
		fs := strings.Fields(sc.Text())
		if len(fs) != 3 || !want[fs[2]] {
			continue // module symbols have a fourth field
		}
		v, err := strconv.ParseUint(fs[0], 16, 64)
		if err != nil || v == 0 {
			return nil, fmt.Errorf("%s: %s %q: addresses hidden (kptr_restrict, or not root) or unreadable", path, fs[2], fs[0])
		}
		if _, dup := out[fs[2]]; !dup {
			out[fs[2]] = v
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for _, n := range names {
		if _, ok := out[n]; !ok {
			return nil, fmt.Errorf("%s: no %s (a kernel without CONFIG_KALLSYMS_ALL lists text symbols only)", path, n)
		}
	}
	return out, nil
}

// kcoreVMCOREINFO reads the VMCOREINFO note /proc/kcore carries since
// Linux 4.19: the one place a running kernel shows NUMBER(PHYS_OFFSET)
// and NUMBER(VA_BITS) (kexec-tools reads them there too).
func kcoreVMCOREINFO(path string) (*vmcoreinfo.Info, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w: kexec_load needs VMCOREINFO's PHYS_OFFSET and VA_BITS for the core header, and only /proc/kcore shows them: build the kernel with CONFIG_PROC_KCORE, or load with kexec_file_load", path, err)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return vmcoreinfoFromCore(f, path)
}

// vmcoreinfoFromCore finds the VMCOREINFO note in an ELF core file's
// PT_NOTE segments.
func vmcoreinfoFromCore(r io.ReaderAt, name string) (*vmcoreinfo.Info, error) {
	ef, err := elf.NewFile(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	for i, p := range ef.Progs {
		if p.Type != elf.PT_NOTE {
			continue
		}
		if p.Filesz > 16<<20 {
			return nil, fmt.Errorf("%s: PT_NOTE %d of %#x bytes is not plausible", name, i, p.Filesz)
		}
		data := make([]byte, p.Filesz)
		if _, err := p.ReadAt(data, 0); err != nil {
			return nil, fmt.Errorf("%s: reading PT_NOTE %d: %w", name, i, err)
		}
		notes, err := dump.ParseNotes(data, ef.ByteOrder)
		if err != nil {
			return nil, fmt.Errorf("%s: PT_NOTE %d: %w", name, i, err)
		}
		for _, n := range notes {
			if n.Name == "VMCOREINFO" {
				info, err := vmcoreinfo.Parse(n.Desc)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", name, err)
				}
				return info, nil
			}
		}
	}
	return nil, fmt.Errorf("%s: no VMCOREINFO note (kernels before 4.19 do not add it to /proc/kcore)", name)
}
