package kernel

import "fmt"

// WaitQueueTasks walks the struct wait_queue_head at head
// (include/linux/wait.h): each struct wait_queue_entry on its list, and
// the task in its private field (autoremove and default wake functions
// keep the waiting task there); entries whose private is no task (a
// poll table's, say) are skipped, as crash does.
func (k *Kernel) WaitQueueTasks(head uint64) ([]Task, error) {
	if k.Types == nil {
		return nil, fmt.Errorf("waitq: %w", ErrNoTypes)
	}
	headOff, err := k.off("struct wait_queue_head", "head")
	if err != nil {
		return nil, err
	}
	entryOff, err := k.off("struct wait_queue_entry", "entry")
	if err != nil {
		return nil, err
	}
	links, err := k.walkList(head + uint64(headOff))
	var out []Task
	for _, l := range links {
		priv, perr := k.field(l-uint64(entryOff), "struct wait_queue_entry", "private")
		if perr != nil || priv == 0 {
			continue
		}
		if t, terr := k.TaskByAddr(priv); terr == nil {
			out = append(out, t)
		}
	}
	return out, err
}
