package kernel

import (
	"fmt"
)

// RunQueue is one CPU's runqueue as crash's runq shows it.
type RunQueue struct {
	CPU     int
	Addr    uint64 // the struct rq
	Current uint64 // rq->curr
	RTArray uint64 // &rq->rt.active
	CFSRoot uint64 // &rq->cfs.tasks_timeline
	RT      []Queued
	CFS     []Queued
}

// Queued is a task waiting on a runqueue, with its priority.
type Queued struct {
	Prio int
	Task Task
}

// maxRBNodes bounds a red-black tree walk: a corrupt tree must not walk
// forever.
const maxRBNodes = 1 << 16

// RunQueues reads each dumped CPU's runqueue: the RT priority array's
// lists (sched_rt_entity.run_list per priority) and the CFS tree
// (sched_entity.run_node in leftmost order), descending into group
// entities' own queues (kernel/sched/sched.h, 6.1).
func (k *Kernel) RunQueues() ([]RunQueue, []error) {
	var out []RunQueue
	var warns []error
	for _, c := range k.CPUs {
		rq, err := k.PerCPU("runqueues", c.CPU)
		if err != nil {
			return out, append(warns, err)
		}
		q := RunQueue{CPU: c.CPU, Addr: rq}
		q.Current, _ = k.field(rq, "struct rq", "curr")
		if off, err := k.off("struct rq", "rt.active"); err == nil {
			q.RTArray = rq + uint64(off)
			q.RT, err = k.rtQueued(q.RTArray)
			if err != nil {
				warns = append(warns, fmt.Errorf("CPU %d RT queue: %w", c.CPU, err))
			}
		}
		if off, err := k.off("struct rq", "cfs.tasks_timeline"); err == nil {
			q.CFSRoot = rq + uint64(off)
			q.CFS, err = k.cfsQueued(q.CFSRoot, 0)
			if err != nil {
				warns = append(warns, fmt.Errorf("CPU %d CFS tree: %w", c.CPU, err))
			}
		}
		out = append(out, q)
	}
	return out, warns
}

// rtQueued walks rt_prio_array.queue[prio] for every priority.
func (k *Kernel) rtQueued(array uint64) ([]Queued, error) {
	f, err := k.Types.FieldOf("struct rt_prio_array", "queue")
	if err != nil {
		return nil, err
	}
	runList, err1 := k.off("struct sched_rt_entity", "run_list")
	rtOff, err2 := k.off("struct task_struct", "rt")
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("sched_rt_entity layout: %v %v", err1, err2)
	}
	n := int(f.Size / 8)
	if k.PtrSize == 8 {
		n = int(f.Size / 16)
	}
	var out []Queued
	for prio := 0; prio < n; prio++ {
		nodes, err := k.walkList(array + uint64(f.Offset) + uint64(prio*2*k.PtrSize))
		if err != nil {
			return out, err
		}
		for _, node := range nodes {
			t, err := k.queuedTask(node - uint64(runList) - uint64(rtOff))
			if err != nil {
				return out, err
			}
			out = append(out, Queued{Prio: prio, Task: t})
		}
	}
	return out, nil
}

// cfsQueued walks a cfs_rq's tasks_timeline in order.
func (k *Kernel) cfsQueued(root uint64, depth int) ([]Queued, error) {
	if depth > 8 {
		return nil, fmt.Errorf("task groups nested deeper than 8")
	}
	nodes, err := k.rbInOrder(root)
	runNode, err1 := k.off("struct sched_entity", "run_node")
	seOff, err2 := k.off("struct task_struct", "se")
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("sched_entity layout: %v %v", err1, err2)
	}
	var out []Queued
	for _, n := range nodes {
		se := n - uint64(runNode)
		if myq, err := k.field(se, "struct sched_entity", "my_q"); err == nil && myq != 0 {
			off, err := k.off("struct cfs_rq", "tasks_timeline")
			if err != nil {
				return out, err
			}
			inner, err := k.cfsQueued(myq+uint64(off), depth+1)
			out = append(out, inner...)
			if err != nil {
				return out, err
			}
			continue
		}
		t, err := k.queuedTask(se - uint64(seOff))
		if err != nil {
			return out, err
		}
		out = append(out, Queued{Prio: -1, Task: t})
	}
	return out, err
}

// queuedTask reads a task on a runqueue and its prio.
func (k *Kernel) queuedTask(addr uint64) (Task, error) {
	if t, err := k.TaskByAddr(addr); err == nil {
		return t, nil
	}
	return k.Task(addr)
}

// Prio reads task->prio.
func (k *Kernel) Prio(t Task) (int, error) {
	v, err := k.field(t.Addr, "struct task_struct", "prio")
	return int(int32(v)), err
}

// rbInOrder returns the nodes of an rb_root (its rb_node is the first
// word) in order, with RBTree.
func (k *Kernel) rbInOrder(root uint64) ([]uint64, error) {
	top, err := k.ReadPtr(root)
	if err != nil {
		return nil, fmt.Errorf("rb_root %#x: %w", root, err)
	}
	es, err := k.RBTree(top, true, maxRBNodes)
	out := make([]uint64, len(es))
	for i, e := range es {
		out[i] = e.Entry
	}
	if err != nil {
		return out, fmt.Errorf("rb tree %#x: %w", root, err)
	}
	return out, nil
}
