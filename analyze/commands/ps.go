package commands

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/kdumpkit/kdumpkit/analyze/escape"
	"github.com/kdumpkit/kdumpkit/analyze/kernel"
)

// PSEntry is one ps row.
type PSEntry struct {
	Active bool    `json:"active"`
	PID    int     `json:"pid"`
	PPID   int     `json:"ppid"`
	CPU    int     `json:"cpu"`
	Task   Addr    `json:"task"`
	State  string  `json:"state"`
	MemPct float64 `json:"mem_percent"`
	VSZKB  uint64  `json:"vsz_kb"`
	RSSKB  uint64  `json:"rss_kb"`
	// ShmemKB is the shmem part of RSSKB, which crash 8.0.2 leaves out.
	ShmemKB uint64 `json:"rss_shmem_kb"`
	Comm    string `json:"comm"`
	Kernel  bool   `json:"kernel_thread"`
}

// PS returns the ps rows of all tasks and the task-walk warnings.
func (s *Session) PS() ([]PSEntry, []error) {
	tasks, warns := s.Kernel.Tasks()
	active := map[uint64]bool{}
	for _, a := range s.Kernel.ActiveTasks() {
		active[a] = true
	}
	page := s.Kernel.PageSize()
	total := s.memory()
	out := make([]PSEntry, 0, len(tasks))
	for _, t := range tasks {
		e := PSEntry{
			Active: active[t.Addr], PID: t.PID, PPID: t.PPID, CPU: t.CPU, Task: Addr(t.Addr),
			State: t.StateName(), VSZKB: t.Total * page / 1024, RSSKB: t.RSS * page / 1024,
			ShmemKB: t.RSSShmem * page / 1024,
			Comm:    t.Comm, Kernel: t.IsKernelThread(),
		}
		if total > 0 {
			e.MemPct = float64(t.RSS*page) * 100 / float64(total)
		}
		out = append(out, e)
	}
	return out, warns
}

func (s *Session) ps(w io.Writer, args []string) error {
	mode, timing, cpus := "", "", ""
	leaders := false
	var sel []string
	for i := 1; i < len(args); i++ {
		switch a := args[i]; {
		case a == "-p" || a == "-c":
			mode = a
		case a == "-G":
			leaders = true
		case a == "-t" || a == "-l" || a == "-m" || a == "-S":
			timing = a
		case a == "-C" && i+1 < len(args):
			i++
			cpus = args[i]
		case strings.HasPrefix(a, "-C") && len(a) > 2:
			cpus = a[2:]
		default:
			if strings.HasPrefix(a, "-") {
				return fmt.Errorf("ps: option %s not supported: %w", a, ErrUsage)
			}
			sel = append(sel, a)
		}
	}
	rows, warns := s.PS()
	if len(rows) == 0 && len(warns) > 0 {
		return fmt.Errorf("ps: %w", errors.Join(warns...))
	}
	for _, err := range warns {
		s.warn(w, err)
	}
	if mode != "" {
		return s.psTree(w, mode, sel)
	}
	if cpus != "" && timing != "-l" && timing != "-m" {
		return fmt.Errorf("ps: -C goes with -l or -m: %w", ErrUsage)
	}
	if timing != "" {
		return s.psTiming(w, timing, sel, cpus)
	}
	if len(sel) > 0 {
		rows = filterRows(rows, sel)
	}
	if leaders {
		rows = leadersOnly(rows, s)
	}
	if s.JSON {
		return writeJSON(w, rows)
	}
	writePS(w, rows)
	return nil
}

// writePS prints crash's ps table; the comm is the dump's, so escaped.
func writePS(w io.Writer, rows []PSEntry) {
	// crash 8.0.2's columns (PIDs up to 4194304, VSZ and RSS in kB up
	// to 9 digits).
	fmt.Fprintln(w, "      PID    PPID  CPU   TASK    ST  %MEM      VSZ      RSS  COMM")
	for _, r := range rows {
		mark := " "
		if r.Active {
			mark = ">"
		}
		comm := escape.Text(r.Comm)
		if r.Kernel {
			comm = "[" + comm + "]"
		}
		fmt.Fprintf(w, "%s%8d%8d%4d  %08x  %s%6.1f%9d%9d  %s\n",
			mark, r.PID, r.PPID, r.CPU, r.Task, r.State, r.MemPct, r.VSZKB, r.RSSKB, comm)
	}
}

// psTiming runs ps -t, -l, -m and -S over the tasks selected (all when
// none is); cpus is -C's list for -l and -m.
func (s *Session) psTiming(w io.Writer, opt string, sel []string, cpus string) error {
	tasks, _ := s.Kernel.Tasks()
	if len(sel) > 0 {
		var picked []kernel.Task
		for _, t := range tasks {
			if selects(sel, t.PID, t.Comm, t.Addr) {
				picked = append(picked, t)
			}
		}
		if len(picked) == 0 {
			return fmt.Errorf("ps %s: no task matches %s", opt, strings.Join(sel, " "))
		}
		tasks = picked
	}
	switch opt {
	case "-t":
		return s.psTimes(w, tasks)
	case "-S":
		psSummary(w, tasks)
		return nil
	}
	return s.psLastRun(w, tasks, opt == "-m", cpus)
}

// leadersOnly keeps the thread group leaders (ps -G): one row a process.
func leadersOnly(rows []PSEntry, s *Session) []PSEntry {
	tasks, _ := s.Kernel.Tasks()
	leader := map[uint64]bool{}
	for _, t := range tasks {
		leader[t.Addr] = t.PID == t.TGID
	}
	var out []PSEntry
	for _, r := range rows {
		if leader[uint64(r.Task)] {
			out = append(out, r)
		}
	}
	return out
}

// filterRows keeps rows selected by PID, task address or command name.
func filterRows(rows []PSEntry, sel []string) []PSEntry {
	var out []PSEntry
	for _, r := range rows {
		if selects(sel, r.PID, r.Comm, uint64(r.Task)) {
			out = append(out, r)
		}
	}
	return out
}

// selects reports whether one of ps's arguments names a task: its PID,
// its command or its task_struct address.
func selects(sel []string, pid int, comm string, task uint64) bool {
	for _, a := range sel {
		if a == strconv.Itoa(pid) || a == comm || strings.TrimPrefix(a, "0x") == fmt.Sprintf("%x", task) {
			return true
		}
	}
	return false
}

// psTree prints -p (ancestry from PID 0 down to each task) or -c (each
// task's children), indented one space per level as crash does.
func (s *Session) psTree(w io.Writer, mode string, sel []string) error {
	tasks, _ := s.Kernel.Tasks()
	var roots []kernel.Task
	if len(sel) == 0 {
		t, err := s.Current()
		if err != nil {
			return err
		}
		roots = []kernel.Task{t}
	}
	for _, a := range sel {
		t, err := s.lookupTask(a)
		if err != nil {
			return err
		}
		roots = append(roots, t)
	}
	byAddr := map[uint64]kernel.Task{}
	for _, t := range tasks {
		byAddr[t.Addr] = t
	}
	// Each block ends in a blank line, as crash's do.
	defer fmt.Fprintln(w)
	for i, t := range roots {
		if i > 0 {
			fmt.Fprintln(w)
		}
		if mode == "-p" {
			var chain []kernel.Task
			for cur, n := t, 0; n < 64; n++ {
				chain = append([]kernel.Task{cur}, chain...)
				p, ok := byAddr[cur.Parent]
				if !ok || p.Addr == cur.Addr {
					break
				}
				cur = p
			}
			for depth, c := range chain {
				fmt.Fprintf(w, "%s%s\n", strings.Repeat(" ", depth), taskHeader(c))
			}
			continue
		}
		fmt.Fprintln(w, taskHeader(t))
		n := 0
		for _, c := range tasks {
			// Every thread whose real_parent is t, as crash lists them:
			// a child's threads share its parent.
			if c.Parent == t.Addr && c.Addr != t.Addr {
				fmt.Fprintf(w, "  %s\n", taskHeader(c))
				n++
			}
		}
		if n == 0 {
			fmt.Fprintln(w, "  (no children)")
		}
	}
	return nil
}

// lookupTask resolves a PID or a hex task_struct address.
func (s *Session) lookupTask(arg string) (kernel.Task, error) {
	if pid, err := strconv.Atoi(arg); err == nil {
		if t, err := s.Kernel.TaskByPID(pid); err == nil {
			return t, nil
		}
	}
	if a, err := strconv.ParseUint(strings.TrimPrefix(arg, "0x"), 16, 64); err == nil {
		if t, err := s.Kernel.TaskByAddr(a); err == nil {
			return t, nil
		}
	}
	return kernel.Task{}, fmt.Errorf("invalid task or pid value: %s", arg)
}

// taskArgs reads the "[pid | taskp]..." arguments of a per-task command
// (files, vm): the tasks they name, or the current one when none.
func (s *Session) taskArgs(cmd string, args []string) ([]kernel.Task, error) {
	var tasks []kernel.Task
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			return nil, fmt.Errorf("%s [pid | taskp]...: option %s not supported: %w", cmd, a, ErrUsage)
		}
		t, err := s.lookupTask(a)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", cmd, err)
		}
		tasks = append(tasks, t)
	}
	if len(tasks) == 0 {
		t, err := s.Current()
		if err != nil {
			return nil, err
		}
		tasks = append(tasks, t)
	}
	return tasks, nil
}
