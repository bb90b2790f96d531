package kernel

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The machine-wide facts crash's sys prints, each read on its own so one
// missing source costs one field.

// UTSName is init_uts_ns.name (include/uapi/linux/utsname.h).
type UTSName struct {
	Sysname, Nodename, Release, Version, Machine, Domainname string
}

// UTSName reads init_uts_ns.name: six 65-byte strings. The address comes
// from VMCOREINFO's SYMBOL(init_uts_ns) (the symbols when absent) and the
// member offset from DWARF, else OFFSET(uts_namespace.name).
func (k *Kernel) UTSName() (UTSName, error) {
	addr, err := strconv.ParseUint(k.VMCOREINFO["SYMBOL(init_uts_ns)"], 16, 64)
	if err != nil {
		if addr, err = k.symbol("init_uts_ns"); err != nil {
			return UTSName{}, fmt.Errorf("utsname: %w", err)
		}
	}
	off, _ := strconv.ParseUint(k.VMCOREINFO["OFFSET(uts_namespace.name)"], 10, 64)
	if k.Types != nil {
		if o, err := k.Types.Offset("struct uts_namespace", "name"); err == nil {
			off = uint64(o)
		}
	}
	const n = 65 // __NEW_UTS_LEN + 1
	buf := make([]byte, 6*n)
	if err := k.Mem.ReadVirt(addr+off, buf); err != nil {
		return UTSName{}, fmt.Errorf("utsname at %#x: %w", addr+off, err)
	}
	f := make([]string, 6)
	for i := range f {
		s := buf[i*n : (i+1)*n]
		if j := strings.IndexByte(string(s), 0); j >= 0 {
			s = s[:j]
		}
		f[i] = string(s)
	}
	return UTSName{f[0], f[1], f[2], f[3], f[4], f[5]}, nil
}

// BootTime is CLOCK_BOOTTIME at the crash, in seconds:
// tk_core.timekeeper.ktime_sec plus offs_boot (kernel/time/timekeeping.c).
func (k *Kernel) BootTime() (float64, error) {
	if k.Types == nil {
		return 0, fmt.Errorf("tk_core: %w", ErrNoTypes)
	}
	base, err := k.symbol("tk_core")
	if err != nil {
		return 0, err
	}
	sec, err := k.Types.VarField("tk_core", "timekeeper.ktime_sec")
	if err != nil {
		return 0, err
	}
	v, err := k.ReadUint(base+uint64(sec.Offset), int(sec.Size))
	if err != nil {
		return 0, err
	}
	up := float64(v)
	if ob, err := k.Types.VarField("tk_core", "timekeeper.offs_boot"); err == nil {
		if ns, err := k.ReadUint(base+uint64(ob.Offset), int(ob.Size)); err == nil {
			up += float64(int64(ns)) / 1e9
		}
	}
	return up, nil
}

// HZ is the kernel's tick rate, from tick_nsec: the kernel sets it to
// TICK_NSEC = (NSEC_PER_SEC + HZ/2) / HZ (include/linux/jiffies.h), and
// no other source (VMCOREINFO, symbols) says HZ on every kernel.
func (k *Kernel) HZ() (uint64, error) {
	a, err := k.symbol("tick_nsec")
	if err != nil {
		return 0, err
	}
	ns, err := k.ReadPtr(a)
	if err != nil {
		return 0, fmt.Errorf("tick_nsec: %w", err)
	}
	if ns == 0 || ns > 1e9 {
		return 0, fmt.Errorf("tick_nsec = %d: not a tick length", ns)
	}
	return (1e9 + ns/2) / ns, nil
}

// Uptime is the time since boot as crash's sys counts it: UptimeJiffies
// over HZ. It can differ from BootTime by the part of a second the tick
// has not counted yet.
func (k *Kernel) Uptime() (float64, error) {
	hz, err := k.HZ()
	if err != nil {
		return 0, err
	}
	j, err := k.UptimeJiffies()
	if err != nil {
		return 0, err
	}
	return float64(j) / float64(hz), nil
}

// UptimeJiffies is the ticks since boot: jiffies_64 less INITIAL_JIFFIES
// (the counter starts 300 s before wrapping a 32-bit long,
// include/linux/jiffies.h).
func (k *Kernel) UptimeJiffies() (uint64, error) {
	hz, err := k.HZ()
	if err != nil {
		return 0, err
	}
	a, err := k.symbol("jiffies_64")
	if err != nil {
		return 0, err
	}
	j, err := k.ReadUint(a, 8)
	if err != nil {
		return 0, fmt.Errorf("jiffies_64: %w", err)
	}
	initial := uint64(uint32(-300 * int64(hz))) // (unsigned long)(unsigned int)(-300*HZ)
	return j - initial, nil
}

// LoadAverage reads avenrun[3], fixed point with FSHIFT = 11
// (include/linux/sched/loadavg.h), and renders it as /proc/loadavg does.
func (k *Kernel) LoadAverage() (string, error) {
	a, err := k.symbol("avenrun")
	if err != nil {
		return "", err
	}
	var parts []string
	for i := 0; i < 3; i++ {
		v, err := k.ReadPtr(a + uint64(i*k.PtrSize))
		if err != nil {
			return "", fmt.Errorf("avenrun[%d]: %w", i, err)
		}
		v += 1 << 11 / 200 // round to hundredths, as the kernel's LOAD_FRAC does for /proc/loadavg
		parts = append(parts, fmt.Sprintf("%d.%02d", v>>11, (v&(1<<11-1))*100>>11))
	}
	return strings.Join(parts, ", "), nil
}

// MemoryBytes is node_present_pages of contig_page_data: all RAM the
// kernel manages, the crashkernel reservation included.
func (k *Kernel) MemoryBytes() (uint64, error) {
	a, err := k.symbol("contig_page_data")
	if err != nil {
		return 0, err
	}
	n, err := k.field(a, "struct pglist_data", "node_present_pages")
	if err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, fmt.Errorf("contig_page_data.node_present_pages is 0")
	}
	return n * k.PageSize(), nil
}

// PageSize is VMCOREINFO's PAGESIZE, 4096 when the note lacks it.
func (k *Kernel) PageSize() uint64 {
	if p, err := strconv.ParseUint(k.VMCOREINFO["PAGESIZE"], 10, 64); err == nil && p > 0 {
		return p
	}
	return 4096
}

// CrashTime is VMCOREINFO's CRASHTIME, the wall-clock second of the crash
// (crash_save_vmcoreinfo).
func (k *Kernel) CrashTime() (time.Time, bool) {
	t, err := strconv.ParseInt(k.VMCOREINFO["CRASHTIME"], 10, 64)
	return time.Unix(t, 0).UTC(), err == nil
}

// Release is the kernel release: utsname's, else VMCOREINFO's OSRELEASE.
func (k *Kernel) Release(uts UTSName) string {
	if uts.Release != "" {
		return uts.Release
	}
	return k.VMCOREINFO["OSRELEASE"]
}

// PanicMessage is the reason of PanicLine without the "Kernel panic -
// not syncing: " prefix: the string given to panic().
func PanicMessage(log []string) string {
	return strings.TrimPrefix(PanicLine(log), panicPrefix)
}

const panicPrefix = "Kernel panic - not syncing: "

// PanicLine finds the line of the kernel log that says why the kernel
// died, from its prefix on, as crash's sys prints it under PANIC: the
// panic() line, else the oops line.
func PanicLine(log []string) string {
	// The lines that say why the kernel died, in the order crash looks.
	prefixes := [...]string{panicPrefix, "Unable to handle kernel ", "Internal error: ", "kernel BUG at "}
	for _, prefix := range prefixes {
		for _, text := range log {
			if i := strings.Index(text, prefix); i >= 0 {
				return strings.TrimRight(text[i:], "\n")
			}
		}
	}
	return ""
}
