package commands

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/kdumpkit/kdumpkit/analyze/kernel"
)

// psTimes is ps -t: each task's run time, start time and CPU times,
// oldest first, as crash prints them. RUN TIME is crash's: the uptime in
// ticks less the start time's whole seconds in ticks. crash 8.0.2 reads
// a 32-bit kernel's 64-bit utime and stime as a timeval it never fills
// and prints USER TIME and SYSTEM TIME as 0; these are the nanosecond
// counts the kernel keeps, under the names crash gives them when it can
// read them (UTIME, STIME).
func (s *Session) psTimes(w io.Writer, tasks []kernel.Task) error {
	hz, err := s.Kernel.HZ()
	if err != nil {
		return fmt.Errorf("ps -t: %w", err)
	}
	now, err := s.Kernel.UptimeJiffies()
	if err != nil {
		return fmt.Errorf("ps -t: %w", err)
	}
	type row struct {
		t  kernel.Task
		tt kernel.TaskTimes
	}
	var rows []row
	for _, t := range tasks {
		tt, err := s.Kernel.Times(t)
		if err != nil {
			return fmt.Errorf("ps -t: %w", err)
		}
		rows = append(rows, row{t, tt})
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].tt.Start < rows[j].tt.Start })
	for _, r := range rows {
		ran := uint64(0)
		if started := r.tt.Start / 1e9 * hz; started <= now {
			ran = now - started
		}
		fmt.Fprintln(w, taskHeader(r.t))
		fmt.Fprintf(w, "    RUN TIME: %s\n", formatUptime(float64(ran/hz)))
		fmt.Fprintf(w, "  START TIME: %d\n", r.tt.Start)
		fmt.Fprintf(w, "       UTIME: %d\n", r.tt.UTime)
		fmt.Fprintf(w, "       STIME: %d\n\n", r.tt.STime)
	}
	return nil
}

// psLastRun is ps -l (the last-run timestamp) and ps -m (the time since,
// "days hh:mm:ss.mss" from the task's CPU's runqueue clock), most
// recently run first, then "[ST]" and the task's header line, as crash
// prints them; with -C (cpus: "1,3,5-7", "all" or "a") in a block per
// CPU, "CPU: N" first, -m's days right-aligned to the runqueue clock's.
// The timestamp is the one crash reads where the kernel has it
// (kernel.LastRunSource); a kernel without CONFIG_SCHED_INFO, of which
// crash says "last-run timestamps do not exist in this kernel", gets
// se.exec_start.
func (s *Session) psLastRun(w io.Writer, tasks []kernel.Task, since bool, cpus string) error {
	src, err := s.Kernel.LastRunSource()
	if err != nil {
		return fmt.Errorf("ps: %w", err)
	}
	type row struct {
		t    kernel.Task
		last uint64
	}
	rows := make([]row, 0, len(tasks))
	for _, t := range tasks {
		v, err := s.Kernel.LastRun(t, src)
		if err != nil {
			return fmt.Errorf("ps: %w", err)
		}
		rows = append(rows, row{t, v})
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].last > rows[j].last })
	if len(rows) == 0 {
		return nil
	}
	width := len(fmt.Sprint(rows[0].last))
	clocks := map[int]uint64{}
	clock := func(cpu int) (uint64, error) {
		if c, ok := clocks[cpu]; ok {
			return c, nil
		}
		c, err := s.Kernel.RunqueueClock(cpu, src)
		if err != nil {
			return 0, fmt.Errorf("ps -m: %w", err)
		}
		clocks[cpu] = c
		return c, nil
	}
	print := func(r row, daysWidth int) error {
		if !since {
			fmt.Fprintf(w, "[%*d] [%s]  %s\n", width, r.last, r.t.StateName(), taskHeader(r.t))
			return nil
		}
		c, err := clock(r.t.CPU)
		if err != nil {
			return err
		}
		delta := uint64(0)
		if c > r.last {
			delta = c - r.last
		}
		d := sinceString(delta)
		pad := max(daysWidth-strings.IndexByte(d, ' '), 0)
		fmt.Fprintf(w, "[%s%s] [%s]  %s\n", strings.Repeat(" ", pad), d, r.t.StateName(), taskHeader(r.t))
		return nil
	}
	if cpus == "" {
		for _, r := range rows {
			if err := print(r, 0); err != nil {
				return err
			}
		}
		return nil
	}
	list, err := s.cpuList(cpus)
	if err != nil {
		return fmt.Errorf("ps -C: %w", err)
	}
	for i, cpu := range list {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "CPU: %d\n", cpu)
		daysWidth := 0
		if since {
			c, err := clock(cpu)
			if err != nil {
				return err
			}
			daysWidth = strings.IndexByte(sinceString(c), ' ')
		}
		for _, r := range rows {
			if r.t.CPU == cpu {
				if err := print(r, daysWidth); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// cpuList reads a CPU list as crash's -C takes it: "1,3,5-7", or "all"
// ("a") for every CPU the dump has.
func (s *Session) cpuList(spec string) ([]int, error) {
	n := 0
	for _, c := range s.Kernel.CPUs {
		n = max(n, c.CPU+1)
	}
	if spec == "all" || spec == "a" {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out, nil
	}
	var out []int
	for _, part := range strings.Split(spec, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err1 := strconv.Atoi(lo)
		b, err2 := a, error(nil)
		if isRange {
			b, err2 = strconv.Atoi(hi)
		}
		if err1 != nil || err2 != nil || a < 0 || b < a || b >= n {
			return nil, fmt.Errorf("bad CPU list %q (the dump has CPUs 0-%d)", spec, n-1)
		}
		for c := a; c <= b; c++ {
			out = append(out, c)
		}
	}
	return out, nil
}

// sinceString is crash's translate_nanoseconds: "days hh:mm:ss.mss".
func sinceString(ns uint64) string {
	ms := ns / 1e6
	return fmt.Sprintf("%d %02d:%02d:%02d.%03d", ms/86400000, ms/3600000%24, ms/60000%60, ms/1000%60, ms%1000)
}

// psSummary is ps -S: how many tasks are in each state, the states in
// the order the PID-sorted task list first shows them, as crash counts.
func psSummary(w io.Writer, tasks []kernel.Task) {
	var order []string
	count := map[string]int{}
	for _, t := range tasks {
		st := t.StateName()
		if count[st] == 0 {
			order = append(order, st)
		}
		count[st]++
	}
	for _, st := range order {
		fmt.Fprintf(w, "  %s: %d\n", st, count[st])
	}
}
