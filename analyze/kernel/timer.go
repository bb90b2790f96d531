package kernel

import (
	"fmt"
	"sort"
)

// Timer is one pending struct timer_list of the timer wheel
// (kernel/time/timer.c): per CPU, NR_BASES struct timer_base, each with
// WHEEL_SIZE hlist buckets of timers.
type Timer struct {
	Addr     uint64
	Expires  uint64
	Function uint64
}

// TimerBase is one CPU's timer_bases[i] and its timers by expiry.
type TimerBase struct {
	CPU, Index int
	Name       string // BASE_STD, BASE_DEF...
	Addr       uint64
	Timers     []Timer
}

// maxTimers bounds one bucket's walk.
const maxTimers = 1 << 16

// TimerBases reads every CPU's timer wheel.
func (k *Kernel) TimerBases() ([]TimerBase, error) {
	if k.Types == nil {
		return nil, fmt.Errorf("timer: %w", ErrNoTypes)
	}
	t, err := k.Types.Variable("timer_bases")
	if err != nil {
		return nil, fmt.Errorf("timer_bases: %w", err)
	}
	size, err := k.Types.Size("struct timer_base")
	if err != nil || size <= 0 {
		return nil, fmt.Errorf("sizeof(struct timer_base): %v", err)
	}
	nBases := int(t.Size() / size)
	names := map[int][]string{1: {"BASE_STD"}, 2: {"BASE_STD", "BASE_DEF"}, 3: {"BASE_LOCAL", "BASE_GLOBAL", "BASE_DEF"}}[nBases]
	vec, err := k.Types.FieldOf("struct timer_base", "vectors")
	if err != nil {
		return nil, err
	}
	buckets := int(vec.Size) / k.PtrSize
	var out []TimerBase
	for cpu := 0; cpu < k.possibleCPUs(); cpu++ {
		first, err := k.PerCPU("timer_bases", cpu)
		if err != nil {
			return out, err
		}
		for i := 0; i < nBases; i++ {
			b := TimerBase{CPU: cpu, Index: i, Addr: first + uint64(i)*uint64(size), Name: fmt.Sprint(i)}
			if i < len(names) {
				b.Name = names[i]
			}
			for j := 0; j < buckets; j++ {
				ts, err := k.hlistTimers(b.Addr + uint64(vec.Offset) + uint64(j*k.PtrSize))
				b.Timers = append(b.Timers, ts...)
				if err != nil {
					return append(out, b), fmt.Errorf("timer_bases[%d] of cpu %d, bucket %d: %w", i, cpu, j, err)
				}
			}
			sort.SliceStable(b.Timers, func(x, y int) bool { return b.Timers[x].Expires < b.Timers[y].Expires })
			out = append(out, b)
		}
	}
	return out, nil
}

// hlistTimers walks one bucket: hlist_head.first, then each
// timer_list.entry.next (the hlist_node is the timer's first member).
func (k *Kernel) hlistTimers(head uint64) ([]Timer, error) {
	var out []Timer
	seen := map[uint64]bool{}
	node, err := k.ReadPtr(head)
	for err == nil && node != 0 {
		if seen[node] || len(seen) >= maxTimers {
			return out, fmt.Errorf("timer %#x met twice: %w", node, ErrLoop)
		}
		seen[node] = true
		tm := Timer{Addr: node}
		if tm.Expires, err = k.field(node, "struct timer_list", "expires"); err != nil {
			return out, err
		}
		tm.Function, _ = k.field(node, "struct timer_list", "function")
		out = append(out, tm)
		node, err = k.ReadPtr(node)
	}
	return out, err
}

// Jiffies reads jiffies (jiffies_64's low word on 32-bit kernels).
func (k *Kernel) Jiffies() (uint64, error) {
	a, err := k.symbol("jiffies")
	if err != nil {
		return 0, err
	}
	return k.ReadPtr(a)
}
