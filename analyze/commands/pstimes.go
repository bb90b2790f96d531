package commands

import (
	"fmt"
	"io"
	"sort"

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
// prints them. The timestamp is the one crash reads where the kernel has
// it (kernel.LastRunSource); a kernel without CONFIG_SCHED_INFO, of
// which crash says "last-run timestamps do not exist in this kernel",
// gets se.exec_start.
func (s *Session) psLastRun(w io.Writer, tasks []kernel.Task, since bool) error {
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
	for _, r := range rows {
		if !since {
			fmt.Fprintf(w, "[%*d] [%s]  %s\n", width, r.last, r.t.StateName(), taskHeader(r.t))
			continue
		}
		clock, ok := clocks[r.t.CPU]
		if !ok {
			if clock, err = s.Kernel.RunqueueClock(r.t.CPU, src); err != nil {
				return fmt.Errorf("ps -m: %w", err)
			}
			clocks[r.t.CPU] = clock
		}
		delta := uint64(0)
		if clock > r.last {
			delta = clock - r.last
		}
		fmt.Fprintf(w, "[%s] [%s]  %s\n", sinceString(delta), r.t.StateName(), taskHeader(r.t))
	}
	return nil
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
