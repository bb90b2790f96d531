package kexec

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// System is what a crash load reads from a root filesystem (/ on the
// target, a fake tree in tests).
type System struct {
	Memory     Memory
	CPUNotes   []CoreNote // one per possible CPU
	VMCOREINFO CoreNote
	PageOffset uint64 // from /proc/kallsyms _stext
}

// ReadSystem reads /proc/iomem, /proc/kallsyms and the kexec files in
// sysfs under root.
func ReadSystem(root string) (*System, error) {
	s, _, err := readSystem(root)
	if err != nil {
		return nil, err
	}
	s.PageOffset, err = pageOffset(filepath.Join(root, "proc/kallsyms"))
	return s, err
}

// readSystem reads what every architecture's crash load needs: the
// memory map, each possible CPU's crash_notes and the VMCOREINFO note's
// place. It returns /proc/iomem's entries too, for the arch's own ones.
func readSystem(root string) (*System, []Resource, error) {
	s := &System{}
	f, err := os.Open(filepath.Join(root, "proc/iomem"))
	if err != nil {
		return nil, nil, err
	}
	res, err := ParseIOMem(f)
	f.Close()
	if err != nil {
		return nil, nil, err
	}
	if s.Memory, err = MemoryFrom(res); err != nil {
		return nil, nil, err
	}
	cpus, err := readList(filepath.Join(root, "sys/devices/system/cpu/possible"))
	if err != nil {
		return nil, nil, err
	}
	for _, c := range cpus {
		dir := filepath.Join(root, "sys/devices/system/cpu", fmt.Sprintf("cpu%d", c))
		addr, err := readHex(filepath.Join(dir, "crash_notes"))
		if err != nil {
			return nil, nil, err
		}
		size, err := readUint(filepath.Join(dir, "crash_notes_size"), 10)
		if err != nil {
			return nil, nil, err
		}
		s.CPUNotes = append(s.CPUNotes, CoreNote{addr, size})
	}
	vi, err := os.ReadFile(filepath.Join(root, "sys/kernel/vmcoreinfo"))
	if err != nil {
		return nil, nil, err
	}
	fs := strings.Fields(string(vi))
	if len(fs) != 2 {
		return nil, nil, fmt.Errorf("/sys/kernel/vmcoreinfo %q: want ADDR SIZE", vi)
	}
	a, err1 := strconv.ParseUint(strings.TrimPrefix(fs[0], "0x"), 16, 64)
	n, err2 := strconv.ParseUint(strings.TrimPrefix(fs[1], "0x"), 16, 64)
	if err1 != nil || err2 != nil {
		return nil, nil, fmt.Errorf("/sys/kernel/vmcoreinfo %q: want hex ADDR SIZE", vi)
	}
	s.VMCOREINFO = CoreNote{a, n}
	return s, res, nil
}

// pageOffset derives PAGE_OFFSET from _stext: the kernel text starts
// 1 MiB or less into the linear map, whose base is 16 MiB aligned
// (0xc0000000, or 0x80000000 with VMSPLIT_2G as vexpress_defconfig has).
func pageOffset(kallsyms string) (uint64, error) {
	f, err := os.Open(kallsyms)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) >= 3 && fs[2] == "_stext" {
			v, err := strconv.ParseUint(fs[0], 16, 64)
			if err != nil || v == 0 {
				return 0, fmt.Errorf("%s: _stext %q: addresses hidden (kptr_restrict) or unreadable", kallsyms, fs[0])
			}
			return v &^ (1<<24 - 1), nil
		}
	}
	return 0, fmt.Errorf("%s: no _stext", kallsyms)
}

func readHex(p string) (uint64, error) { return readUint(p, 16) }

func readUint(p string, base int) (uint64, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return 0, err
	}
	s := strings.TrimPrefix(strings.TrimSpace(string(b)), "0x")
	v, err := strconv.ParseUint(s, base, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not a base-%d number", p, s, base)
	}
	return v, nil
}

// readList reads a sysfs CPU list such as "0", "0-3" or "0,2-3".
func readList(p string) ([]int, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	var out []int
	for _, part := range strings.Split(strings.TrimSpace(string(b)), ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not a CPU list", p, b)
		}
		z := a
		if isRange {
			if z, err = strconv.Atoi(hi); err != nil || z < a || z-a > 4096 {
				return nil, fmt.Errorf("%s: %q is not a CPU list", p, b)
			}
		}
		for c := a; c <= z; c++ {
			out = append(out, c)
		}
	}
	return out, nil
}
