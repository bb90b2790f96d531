package commands

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/kdumpkit/kdumpkit/analyze/escape"
	"github.com/kdumpkit/kdumpkit/analyze/kernel"
)

// SysInfo is what sys prints.
type SysInfo struct {
	Kernel      string  `json:"kernel"`
	Dumpfile    string  `json:"dumpfile"`
	CPUs        int     `json:"cpus"`
	Date        string  `json:"date,omitempty"`
	UptimeSec   float64 `json:"uptime_seconds"`
	LoadAverage string  `json:"load_average,omitempty"`
	Tasks       int     `json:"tasks"`
	Nodename    string  `json:"nodename"`
	Release     string  `json:"release"`
	Version     string  `json:"version"`
	Machine     string  `json:"machine"`
	// KernelOffset is the KASLR offset (VMCOREINFO's KERNELOFFSET).
	KernelOffset Addr   `json:"kernel_offset"`
	MemoryBytes  uint64 `json:"memory_bytes"`
	// Panic is the string given to panic() (or the oops line);
	// PanicLine is the log line as sys prints it, crash's shape:
	// "Kernel panic - not syncing: " and the string.
	Panic     string `json:"panic,omitempty"`
	PanicLine string `json:"panic_line,omitempty"`
	// TaintMask is tainted_mask; TaintFlags its letters (W, O, ...).
	TaintMask  uint64   `json:"taint_mask"`
	TaintFlags string   `json:"taint_flags,omitempty"`
	PID        int      `json:"pid"`
	Command    string   `json:"command,omitempty"`
	Task       Addr     `json:"task,omitempty"`
	CPU        int      `json:"cpu"`
	State      string   `json:"state,omitempty"`
	Warnings   []string `json:"warnings,omitempty"`
	// Unverified is the pipeline's reasons for marking the dump
	// UNVERIFIED; empty for a verified dump.
	Unverified []string `json:"unverified,omitempty"`
}

// Sys gathers the sys fields. Each field degrades alone: without DWARF the
// task fields come from NT_PRSTATUS and the utsname from VMCOREINFO's
// init_uts_ns address.
func (s *Session) Sys() SysInfo {
	k := s.Kernel
	si := SysInfo{Kernel: s.KernelPath, Dumpfile: s.DumpPath, CPUs: len(k.CPUs), PID: -1, CPU: -1, Unverified: s.Unverified}
	warn := func(err error) { si.Warnings = append(si.Warnings, err.Error()) }
	if t, ok := k.CrashTime(); ok {
		si.Date = t.Format("Mon Jan _2 15:04:05 MST 2006")
	}
	uts, err := k.UTSName()
	if err != nil {
		warn(err)
	}
	si.Nodename, si.Release, si.Version, si.Machine = uts.Nodename, k.Release(uts), uts.Version, uts.Machine
	off, err := k.KernelOffset()
	if err != nil {
		warn(err)
	}
	si.KernelOffset = Addr(off)
	si.UptimeSec = s.uptime()
	si.LoadAverage, _ = k.LoadAverage()
	si.MemoryBytes = s.memory()
	si.PanicLine = s.panicLine()
	si.Panic = kernel.PanicMessage([]string{si.PanicLine})
	if t, err := k.Taint(); err == nil {
		si.TaintMask, si.TaintFlags = t.Mask, t.Flags
	} else if t.Mask != 0 {
		si.TaintMask = t.Mask
		warn(err)
	}
	tasks, _ := k.Tasks()
	si.Tasks = len(tasks)
	p, err := k.PanicTask()
	if err != nil {
		warn(err)
		if cpu, cerr := k.PanicCPU(); cerr == nil {
			si.CPU = cpu
			for _, c := range k.CPUs {
				if c.CPU == cpu {
					si.PID = c.PID
				}
			}
		}
		return si
	}
	if p.Warning != nil {
		warn(p.Warning)
	}
	si.PID, si.Command, si.Task, si.CPU = p.Task.PID, p.Task.Comm, Addr(p.Task.Addr), p.CPU
	si.State = p.Task.StateLong() + " (PANIC)"
	return si
}

// uptime is crash's uptime at the crash (kernel.Uptime, from jiffies),
// else the boot clock (kernel.BootTime), else the last printk timestamp.
func (s *Session) uptime() float64 {
	if up, err := s.Kernel.Uptime(); err == nil {
		return up
	}
	if up, err := s.Kernel.BootTime(); err == nil {
		return up
	}
	if s.Printk != nil {
		if recs, err := s.Printk(); err == nil && len(recs) > 0 {
			return float64(recs[len(recs)-1].TimeNS) / 1e9
		}
	}
	return 0
}

// memory is the RAM the kernel manages (kernel.MemoryBytes) or, when
// that is unreadable, the dump's.
func (s *Session) memory() uint64 {
	if n, err := s.Kernel.MemoryBytes(); err == nil {
		return n
	}
	return s.DumpRAM
}

// panicLine is kernel.PanicLine of the log.
func (s *Session) panicLine() string {
	if s.Printk == nil {
		return ""
	}
	recs, err := s.Printk()
	if err != nil {
		return ""
	}
	texts := make([]string, len(recs))
	for i, r := range recs {
		texts[i] = r.Text
	}
	return kernel.PanicLine(texts)
}

func formatUptime(sec float64) string {
	t := int64(sec)
	d, h, m, ss := t/86400, t/3600%24, t/60%60, t%60
	if d > 0 {
		return fmt.Sprintf("%d days, %02d:%02d:%02d", d, h, m, ss)
	}
	return fmt.Sprintf("%02d:%02d:%02d", h, m, ss)
}

func formatBytes(n uint64) string {
	switch {
	case n >= 1<<30:
		return trimFloat(float64(n)/(1<<30)) + " GB"
	case n >= 1<<20:
		return trimFloat(float64(n)/(1<<20)) + " MB"
	}
	return trimFloat(float64(n)/(1<<10)) + " KB"
}

func trimFloat(f float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.1f", f), "0"), ".")
}

func (s *Session) sys(w io.Writer, args []string) error {
	taintOnly := false
	for _, a := range args[1:] {
		if a != "-t" {
			return fmt.Errorf("sys [-t]: option %s not supported: %w", a, ErrUsage)
		}
		taintOnly = true
	}
	si := s.Sys()
	if taintOnly {
		if s.JSON {
			return writeJSON(w, map[string]any{"taint_mask": si.TaintMask, "taint_flags": si.TaintFlags})
		}
		// crash's sys -t: the mask in hex, then the set bits' letters.
		fmt.Fprintf(w, "TAINTED_MASK: %x  %s\n", si.TaintMask, si.TaintFlags)
		return nil
	}
	if s.JSON {
		return writeJSON(w, si)
	}
	for _, warnMsg := range si.Warnings {
		writeWarning(w, warnMsg)
	}
	row := func(k, v string) { fmt.Fprintf(w, "%12s: %s\n", k, escape.Text(v)) }
	kernelMark := ""
	if si.TaintMask != 0 {
		kernelMark = "  [TAINTED]"
	}
	row("KERNEL", si.Kernel+kernelMark)
	row("DUMPFILE", si.Dumpfile+s.dumpfileMarks())
	row("CPUS", strconv.Itoa(si.CPUs))
	row("DATE", si.Date)
	row("UPTIME", formatUptime(si.UptimeSec))
	row("LOAD AVERAGE", si.LoadAverage)
	row("TASKS", strconv.Itoa(si.Tasks))
	row("NODENAME", si.Nodename)
	row("RELEASE", si.Release)
	row("VERSION", si.Version)
	row("MACHINE", si.Machine+"  (unknown Mhz)") // as crash prints it when it cannot read the clock
	row("MEMORY", formatBytes(si.MemoryBytes))
	if si.PanicLine != "" {
		row("PANIC", strconv.Quote(si.PanicLine))
	}
	row("PID", strconv.Itoa(si.PID))
	if si.Command != "" {
		row("COMMAND", strconv.Quote(si.Command))
		row("TASK", fmt.Sprintf("%x", si.Task))
	}
	row("CPU", strconv.Itoa(si.CPU))
	if si.State != "" {
		row("STATE", si.State)
	}
	return nil
}

// writeJSON is every command's JSON output: strings from the dump keep
// their control characters escaped (escape.WriteJSON).
func writeJSON(w io.Writer, v any) error { return escape.WriteJSON(w, v) }

// writeWarning prints one WARNING line; its text may quote the dump
// (a record, a comm), so it is escaped like any dump string.
func writeWarning(w io.Writer, msg string) {
	fmt.Fprintf(w, "WARNING: %s\n", escape.Text(msg))
}

// taskHeader is crash's one-line task identification (8.0.2's widths).
func taskHeader(t kernel.Task) string {
	return fmt.Sprintf("PID: %-8d TASK: %x  CPU: %-3d  COMMAND: %q", t.PID, t.Addr, t.CPU, t.Comm)
}

// dumpfileMarks are the tags sys puts after DUMPFILE: crash's
// [PARTIAL DUMP] for a cut file, and [UNVERIFIED] for a dump the pipeline
// could not verify.
func (s *Session) dumpfileMarks() string {
	var m string
	if s.Partial {
		m += "  [PARTIAL DUMP]"
	}
	if len(s.Unverified) > 0 {
		m += "  [UNVERIFIED]"
	}
	return m
}
