package kernel

import (
	"errors"
	"fmt"
	"sort"
)

// Task is one task_struct as ps shows it.
type Task struct {
	Addr      uint64
	PID, TGID int
	PPID      int
	Parent    uint64 // real_parent
	Comm      string
	State     uint64 // __state (6.1) or state (older)
	ExitState uint64
	Flags     uint64
	CPU       int
	Stack     uint64 // task->stack, the kernel stack base
	MM        uint64
	// RSS is the resident pages of the task's mm, as the kernel's
	// get_mm_rss counts them (file + anon + shmem), with the unsynced
	// SPLIT_RSS_COUNTING deltas of every thread sharing the mm added, so
	// all threads of a process show one figure; RSSShmem is the shmem
	// part of it (crash 8.0.2 leaves that part out). Total is
	// mm->total_vm.
	RSS, RSSShmem, Total uint64
	// rss is the mm's counters and delta this thread's own
	// task->rss_stat, by MM_* index, before the threads are summed.
	rss, delta [nrMMCounters]int64
}

// The mm counters of include/linux/mm_types_task.h (6.1).
const (
	mmFilePages  = 0
	mmAnonPages  = 1
	mmShmemPages = 3
	nrMMCounters = 4
)

// PFKthread is PF_KTHREAD in task_struct.flags (include/linux/sched.h).
const PFKthread = 0x00200000

// IsKernelThread reports whether the task is a kernel thread (ps puts those
// in brackets).
func (t Task) IsKernelThread() bool { return t.Flags&PFKthread != 0 || t.MM == 0 }

// Tasks walks init_task.tasks and each process's thread list and returns
// every task sorted by PID (init_task, PID 0, first). Walk problems — a
// loop, an unreadable task — are returned as warnings next to the tasks
// found, so ps can show a partial list.
func (k *Kernel) Tasks() ([]Task, []error) {
	k.mu.Lock()
	if k.tasks != nil {
		defer k.mu.Unlock()
		return k.tasks, k.warns
	}
	k.mu.Unlock()
	tasks, warns := k.walkTasks()
	k.mu.Lock()
	k.tasks, k.warns = tasks, warns
	k.mu.Unlock()
	return tasks, warns
}

func (k *Kernel) walkTasks() ([]Task, []error) {
	initTask, err := k.symbol("init_task")
	if err != nil {
		return nil, []error{err}
	}
	tasksOff, err := k.off("struct task_struct", "tasks")
	if err != nil {
		return nil, []error{err}
	}
	var warns []error
	leaders, err := k.walkList(initTask + uint64(tasksOff))
	if err != nil {
		warns = append(warns, fmt.Errorf("task list: %w", err))
	}
	addrs := []uint64{initTask}
	for _, n := range leaders {
		addrs = append(addrs, n-uint64(tasksOff))
	}
	addrs, threadWarns := k.addThreads(addrs)
	warns = append(warns, threadWarns...)
	addrs = k.addIdleTasks(addrs)
	out := make([]Task, 0, len(addrs))
	for _, a := range addrs {
		t, err := k.Task(a)
		if err != nil {
			warns = append(warns, err)
			continue
		}
		out = append(out, t)
	}
	k.fillPPID(out)
	sumThreadRSS(out)
	sort.SliceStable(out, func(i, j int) bool { return out[i].PID < out[j].PID })
	return out, warns
}

// addThreads appends the non-leader threads of each process, found on the
// leader's signal->thread_head list (thread_node), which 6.1 keeps beside
// the older thread_group list.
func (k *Kernel) addThreads(leaders []uint64) ([]uint64, []error) {
	sigOff, err1 := k.off("struct task_struct", "signal")
	headOff, err2 := k.off("struct signal_struct", "thread_head")
	nodeOff, err3 := k.off("struct task_struct", "thread_node")
	if err := errors.Join(err1, err2, err3); err != nil {
		return leaders, nil // a kernel without thread_head: leaders only
	}
	seen := map[uint64]bool{}
	for _, a := range leaders {
		seen[a] = true
	}
	out := leaders
	var warns []error
	for _, a := range leaders {
		sig, err := k.ReadPtr(a + uint64(sigOff))
		if err != nil || sig == 0 {
			continue
		}
		nodes, err := k.walkList(sig + uint64(headOff))
		if err != nil {
			warns = append(warns, fmt.Errorf("threads of task %#x: %w", a, err))
		}
		for _, n := range nodes {
			t := n - uint64(nodeOff)
			if !seen[t] {
				seen[t] = true
				out = append(out, t)
			}
		}
	}
	return out, warns
}

// addIdleTasks appends the idle tasks of the other CPUs (swapper/1...):
// like init_task (swapper/0) they are on no task list, only in their
// runqueue's idle pointer.
func (k *Kernel) addIdleTasks(addrs []uint64) []uint64 {
	idleOff, err := k.off("struct rq", "idle")
	if err != nil {
		return addrs
	}
	seen := map[uint64]bool{}
	for _, a := range addrs {
		seen[a] = true
	}
	for _, c := range k.CPUs {
		rq, err := k.PerCPU("runqueues", c.CPU)
		if err != nil {
			continue
		}
		if idle, err := k.ReadPtr(rq + uint64(idleOff)); err == nil && idle != 0 && !seen[idle] {
			seen[idle] = true
			addrs = append(addrs, idle)
		}
	}
	return addrs
}

func (k *Kernel) fillPPID(ts []Task) {
	pid := make(map[uint64]int, len(ts))
	for _, t := range ts {
		pid[t.Addr] = t.PID
	}
	for i := range ts {
		ts[i].PPID = pid[ts[i].Parent]
	}
}

// Task reads one task_struct.
func (k *Kernel) Task(addr uint64) (Task, error) {
	const ts = "struct task_struct"
	t := Task{Addr: addr}
	var err error
	get := func(path string) uint64 {
		if err != nil {
			return 0
		}
		var v uint64
		v, err = k.field(addr, ts, path)
		return v
	}
	t.PID = int(int32(get("pid")))
	t.TGID = int(int32(get("tgid")))
	t.Parent = get("real_parent")
	t.Flags = get("flags")
	t.Stack = get("stack")
	t.MM = get("mm")
	t.ExitState = get("exit_state")
	if err != nil {
		return t, fmt.Errorf("task %#x: %w", addr, err)
	}
	if t.State, err = k.field(addr, ts, "__state"); err != nil {
		t.State, err = k.field(addr, ts, "state") // before 5.14
	}
	if err != nil {
		return t, fmt.Errorf("task %#x: %w", addr, err)
	}
	t.CPU = k.taskCPU(addr)
	commOff, err := k.off(ts, "comm")
	if err != nil {
		return t, err
	}
	if t.Comm, err = k.ReadString(addr+uint64(commOff), 16); err != nil {
		return t, fmt.Errorf("task %#x comm: %w", addr, err)
	}
	if t.MM != 0 {
		k.mmPages(&t)
		t = sumOne(t, []Task{t}) // the thread alone; Tasks sums the others in
	}
	return t, nil
}

// taskCPU reads task->cpu (THREAD_INFO_IN_TASK kernels since 5.16) or
// thread_info.cpu (ARM keeps one there too).
func (k *Kernel) taskCPU(addr uint64) int {
	if v, err := k.field(addr, "struct task_struct", "cpu"); err == nil {
		return int(v)
	}
	if v, err := k.field(addr, "struct task_struct", "thread_info.cpu"); err == nil {
		return int(v)
	}
	return -1
}

// mmPages reads mm->total_vm, the mm's rss_stat counters and the
// task's own unsynced SPLIT_RSS_COUNTING deltas (task->rss_stat). Up to
// 6.1 the counters are atomic_long_t in struct mm_rss_stat; 6.2 made them
// an array of percpu_counters (and dropped SPLIT_RSS_COUNTING).
func (k *Kernel) mmPages(t *Task) {
	t.Total, _ = k.field(t.MM, "struct mm_struct", "total_vm")
	for _, i := range []int{mmFilePages, mmAnonPages, mmShmemPages} {
		v, err := k.field(t.MM, "struct mm_struct", fmt.Sprintf("rss_stat.count[%d].counter", i))
		if err != nil {
			off, perr := k.off("struct mm_struct", fmt.Sprintf("rss_stat[%d]", i))
			if perr != nil {
				break
			}
			if n, perr := k.percpuCounter(t.MM + uint64(off)); perr == nil {
				t.rss[i] = n
			}
			continue
		}
		t.rss[i] = int64(int32(v))
		if k.PtrSize == 8 {
			t.rss[i] = int64(v)
		}
		if d, err := k.field(t.Addr, "struct task_struct", fmt.Sprintf("rss_stat.count[%d]", i)); err == nil {
			t.delta[i] = int64(int32(d))
		}
	}
}

// percpuCounter sums a struct percpu_counter as percpu_counter_sum()
// does and crash reads 6.2+'s rss_stat: count plus each possible CPU's
// s32 delta at counters + __per_cpu_offset[cpu] (count alone without SMP).
func (k *Kernel) percpuCounter(addr uint64) (int64, error) {
	c, err := k.field(addr, "struct percpu_counter", "count")
	if err != nil {
		return 0, err
	}
	sum := int64(c)
	counters, err1 := k.field(addr, "struct percpu_counter", "counters")
	offs, err2 := k.symbol("__per_cpu_offset")
	if err1 != nil || err2 != nil {
		return sum, nil
	}
	for cpu := 0; cpu < k.possibleCPUs(); cpu++ {
		o, err := k.ReadPtr(offs + uint64(cpu*k.PtrSize))
		if err != nil {
			return sum, fmt.Errorf("__per_cpu_offset[%d]: %w", cpu, err)
		}
		v, err := k.ReadUint((counters+o)&k.mask(), 4)
		if err != nil {
			return sum, fmt.Errorf("percpu_counter %#x, CPU %d: %w", addr, cpu, err)
		}
		sum += int64(int32(v))
	}
	return sum, nil
}

// possibleCPUs is nr_cpu_ids, the CPUs that have per-CPU areas; the
// dumped CPUs when the variable is unreadable.
func (k *Kernel) possibleCPUs() int {
	if a, err := k.symbol("nr_cpu_ids"); err == nil {
		if n, err := k.ReadUint(a, 4); err == nil && n > 0 && n <= 8192 {
			return int(n)
		}
	}
	return len(k.CPUs)
}

// sumThreadRSS sets RSS of every task from its mm's counters plus the
// deltas of all tasks sharing that mm, as crash does: the kernel folds a
// thread's delta into the mm only every 64 page faults
// (TASK_RSS_EVENTS_THRESH), so one thread's view misses what the others
// have not synced yet.
func sumThreadRSS(ts []Task) {
	byMM := map[uint64][]Task{}
	for _, t := range ts {
		if t.MM != 0 {
			byMM[t.MM] = append(byMM[t.MM], t)
		}
	}
	for i := range ts {
		if ts[i].MM != 0 {
			ts[i] = sumOne(ts[i], byMM[ts[i].MM])
		}
	}
}

// sumOne returns t with RSS and RSSShmem from its mm's counters and the
// deltas of threads; a negative sum counts as 0, as get_mm_counter does.
func sumOne(t Task, threads []Task) Task {
	t.RSS, t.RSSShmem = 0, 0
	for _, i := range []int{mmFilePages, mmAnonPages, mmShmemPages} {
		n := t.rss[i]
		for _, th := range threads {
			n += th.delta[i]
		}
		if n <= 0 {
			continue
		}
		t.RSS += uint64(n)
		if i == mmShmemPages {
			t.RSSShmem = uint64(n)
		}
	}
	return t
}

// StateName returns crash's two-letter task state.
func (t Task) StateName() string {
	switch {
	case t.ExitState&0x20 != 0:
		return "ZO"
	case t.ExitState&0x10 != 0:
		return "DE"
	}
	s := t.State
	switch {
	case s == 0:
		return "RU"
	case s&0x402 == 0x402:
		return "ID" // TASK_IDLE = TASK_UNINTERRUPTIBLE | TASK_NOLOAD
	case s&1 != 0:
		return "IN"
	case s&2 != 0:
		return "UN"
	case s&4 != 0:
		return "ST"
	case s&8 != 0:
		return "TR"
	case s&0x40 != 0:
		return "PA"
	case s&0x80 != 0:
		return "DE"
	case s&0x200 != 0:
		return "WA"
	case s&0x800 != 0:
		return "NE"
	}
	return "??"
}

// StateLong is the state spelled as sys and set print it.
func (t Task) StateLong() string {
	switch t.StateName() {
	case "RU":
		return "TASK_RUNNING"
	case "IN":
		return "TASK_INTERRUPTIBLE"
	case "UN":
		return "TASK_UNINTERRUPTIBLE"
	case "ID":
		return "TASK_IDLE"
	case "ST":
		return "TASK_STOPPED"
	case "TR":
		return "TASK_TRACED"
	case "ZO":
		return "EXIT_ZOMBIE"
	case "DE":
		return "EXIT_DEAD"
	case "PA":
		return "TASK_PARKED"
	case "WA":
		return "TASK_WAKING"
	}
	return fmt.Sprintf("%#x", t.State)
}
