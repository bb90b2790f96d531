package kernel

import "fmt"

// TaskTimes are a task's start and CPU times (ps -t), in nanoseconds:
// task_struct.start_time (CLOCK_MONOTONIC at fork), utime and stime.
type TaskTimes struct {
	Start, UTime, STime uint64
}

// Times reads a task's TaskTimes.
func (k *Kernel) Times(t Task) (TaskTimes, error) {
	var out TaskTimes
	var err error
	if out.Start, err = k.field(t.Addr, "struct task_struct", "start_time"); err != nil {
		return out, fmt.Errorf("task %#x start_time: %w", t.Addr, err)
	}
	out.UTime, _ = k.field(t.Addr, "struct task_struct", "utime")
	out.STime, _ = k.field(t.Addr, "struct task_struct", "stime")
	return out, nil
}

// LastRunSource says where LastRun reads its timestamps: the first of
// task_struct.last_run (2.4), task_struct.timestamp (2.6.x) and
// sched_info.last_arrival (CONFIG_SCHED_INFO) the kernel has, as crash
// does; without any (a kernel without SCHED_INFO, which crash cannot
// answer for), se.exec_start, the runqueue's clock_task when the task
// last went on a CPU (kernel/sched/fair.c update_curr).
func (k *Kernel) LastRunSource() (string, error) {
	for _, m := range []string{"last_run", "timestamp", "sched_info.last_arrival", "se.exec_start"} {
		if _, err := k.off("struct task_struct", m); err == nil {
			return m, nil
		}
	}
	return "", fmt.Errorf("last-run timestamps: task_struct has no last_run, timestamp, sched_info.last_arrival or se.exec_start")
}

// LastRun reads a task's last-run timestamp from source (LastRunSource).
func (k *Kernel) LastRun(t Task, source string) (uint64, error) {
	v, err := k.field(t.Addr, "struct task_struct", source)
	if err != nil {
		return 0, fmt.Errorf("task %#x %s: %w", t.Addr, source, err)
	}
	return v, nil
}

// RunqueueClock reads a CPU's runqueue clock that LastRun's source
// counts in: rq->clock_task for se.exec_start, rq->clock for the others
// (crash's ps -m).
func (k *Kernel) RunqueueClock(cpu int, source string) (uint64, error) {
	rq, err := k.PerCPU("runqueues", cpu)
	if err != nil {
		return 0, err
	}
	member := "clock"
	if source == "se.exec_start" {
		member = "clock_task"
	}
	v, err := k.field(rq, "struct rq", member)
	if err != nil {
		return 0, fmt.Errorf("CPU %d runqueue %#x %s: %w", cpu, rq, member, err)
	}
	return v, nil
}
