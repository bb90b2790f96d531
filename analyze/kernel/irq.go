package kernel

import (
	"debug/dwarf"
	"errors"
	"fmt"
	"sort"

	"github.com/kdumpkit/kdumpkit/analyze/types"
)

// IRQ is one struct irq_desc (include/linux/irqdesc.h) with its actions.
type IRQ struct {
	IRQ      uint64
	Desc     uint64
	Actions  []IRQAction
	Affinity []int    // CPUs of irq_common_data.affinity
	Counts   []uint64 // per CPU, from desc->kstat_irqs
}

// IRQAction is one struct irqaction on a descriptor's action chain.
type IRQAction struct {
	Addr    uint64
	Name    string
	Handler uint64
}

// maxIRQs bounds the descriptors read.
const maxIRQs = 1 << 16

// IRQs returns every interrupt descriptor by number: SPARSE_IRQ keeps
// them in irq_desc_tree (a radix tree, up to 6.4) or sparse_irqs (a maple
// tree, 6.5 on); otherwise they are the irq_desc[] array.
func (k *Kernel) IRQs() ([]IRQ, error) {
	if k.Types == nil {
		return nil, fmt.Errorf("irq: %w", ErrNoTypes)
	}
	type found struct{ irq, desc uint64 }
	var descs []found
	var walkErr error
	switch {
	case k.hasSymbol("irq_desc_tree"):
		root, _ := k.symbol("irq_desc_tree")
		l, err := k.XArrayLayout()
		if err != nil {
			return nil, err
		}
		es, err := k.XArray(root, false, l, maxIRQs)
		walkErr = err
		for _, e := range es {
			descs = append(descs, found{e.Index, e.Entry})
		}
	case k.hasSymbol("sparse_irqs"):
		root, _ := k.symbol("sparse_irqs")
		l, err := k.MapleLayout()
		if err != nil {
			return nil, err
		}
		es, err := k.MapleTree(root, false, l, maxIRQs)
		walkErr = err
		for _, e := range es {
			for i := e.Index; i <= e.Last && i-e.Index < maxIRQs; i++ {
				descs = append(descs, found{i, e.Entry})
			}
		}
	default:
		arr, err := k.symbol("irq_desc")
		if err != nil {
			return nil, fmt.Errorf("neither irq_desc_tree, sparse_irqs nor irq_desc: %w", err)
		}
		size, err := k.Types.Size("struct irq_desc")
		if err != nil {
			return nil, err
		}
		n := k.nrIRQs()
		for i := uint64(0); i < n; i++ {
			descs = append(descs, found{i, arr + i*uint64(size)})
		}
	}
	sort.Slice(descs, func(i, j int) bool { return descs[i].irq < descs[j].irq })
	var out []IRQ
	var errs []error
	if walkErr != nil {
		errs = append(errs, walkErr)
	}
	for _, d := range descs {
		q, err := k.irqAt(d.irq, d.desc)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, q)
	}
	return out, errors.Join(errs...)
}

func (k *Kernel) hasSymbol(name string) bool {
	_, err := k.symbol(name)
	return err == nil
}

// nrIRQs is nr_irqs (at most maxIRQs).
func (k *Kernel) nrIRQs() uint64 {
	a, err := k.symbol("nr_irqs")
	if err != nil {
		return 0
	}
	n, err := k.ReadUint(a, 4)
	if err != nil {
		return 0
	}
	return min(n, maxIRQs)
}

// irqAt reads one descriptor, its action chain (through ->next, at most
// 64 of them), affinity and per-CPU counts.
func (k *Kernel) irqAt(irq, desc uint64) (IRQ, error) {
	q := IRQ{IRQ: irq, Desc: desc}
	act, err := k.field(desc, "struct irq_desc", "action")
	if err != nil {
		return q, fmt.Errorf("irq %d: irq_desc %#x: %w", irq, desc, err)
	}
	seen := map[uint64]bool{}
	for act != 0 {
		if seen[act] || len(seen) > 64 {
			return q, fmt.Errorf("irq %d: irqaction chain loops at %#x: %w", irq, act, ErrLoop)
		}
		seen[act] = true
		a := IRQAction{Addr: act}
		if np, err := k.field(act, "struct irqaction", "name"); err == nil && np != 0 {
			a.Name, _ = k.ReadString(np, 64)
		}
		a.Handler, _ = k.field(act, "struct irqaction", "handler")
		q.Actions = append(q.Actions, a)
		if act, err = k.field(act, "struct irqaction", "next"); err != nil {
			return q, fmt.Errorf("irq %d: irqaction %#x: %w", irq, a.Addr, err)
		}
	}
	q.Affinity = k.irqAffinity(desc)
	q.Counts = k.irqCounts(desc)
	return q, nil
}

// irqAffinity reads irq_common_data.affinity: a struct cpumask[1], or a
// pointer to one with CPUMASK_OFFSTACK.
func (k *Kernel) irqAffinity(desc uint64) []int {
	t, err := k.Types.Named("struct irq_desc")
	if err != nil {
		return nil
	}
	m, err := types.MemberOf(t, "irq_common_data.affinity")
	if err != nil {
		return nil
	}
	at := desc + uint64(m.Offset)
	if _, isPtr := types.Strip(m.Type).(*dwarf.PtrType); isPtr {
		if at, err = k.ReadPtr(at); err != nil || at == 0 {
			return nil
		}
	}
	n := k.possibleCPUs()
	var cpus []int
	for w := 0; w*8*k.PtrSize < n; w++ {
		bits, err := k.ReadPtr(at + uint64(w*k.PtrSize))
		if err != nil {
			return cpus
		}
		for b := 0; b < 8*k.PtrSize && w*8*k.PtrSize+b < n; b++ {
			if bits&(1<<uint(b)) != 0 {
				cpus = append(cpus, w*8*k.PtrSize+b)
			}
		}
	}
	return cpus
}

// irqCounts reads desc->kstat_irqs on each CPU: a per-CPU unsigned int
// (6.1), or struct irqstat's cnt (6.10 on).
func (k *Kernel) irqCounts(desc uint64) []uint64 {
	p, err := k.field(desc, "struct irq_desc", "kstat_irqs")
	if err != nil || p == 0 {
		return nil
	}
	cnt := int64(0)
	if o, err := k.off("struct irqstat", "cnt"); err == nil {
		cnt = o
	}
	var out []uint64
	for cpu := 0; cpu < k.possibleCPUs(); cpu++ {
		off, err := k.perCPUOffset(cpu)
		if err != nil {
			break
		}
		v, err := k.ReadUint((p+off+uint64(cnt))&k.mask(), 4)
		if err != nil {
			break
		}
		out = append(out, v)
	}
	return out
}

// Softirq is one softirq_vec[] entry with a handler.
type Softirq struct {
	Nr     int
	Action uint64
}

// Softirqs reads softirq_vec[]'s actions (NULL ones left out).
func (k *Kernel) Softirqs() ([]Softirq, error) {
	a, err := k.symbol("softirq_vec")
	if err != nil {
		return nil, err
	}
	n := 10 // NR_SOFTIRQS
	if t, err := k.Types.Variable("softirq_vec"); err == nil {
		if at, ok := types.Strip(t).(*dwarf.ArrayType); ok && at.Count > 0 && at.Count < 64 {
			n = int(at.Count)
		}
	}
	size, err := k.Types.Size("struct softirq_action")
	if err != nil {
		return nil, err
	}
	var out []Softirq
	for i := 0; i < n; i++ {
		act, err := k.ReadPtr(a + uint64(i)*uint64(size))
		if err != nil {
			return out, fmt.Errorf("softirq_vec[%d]: %w", i, err)
		}
		if act != 0 {
			out = append(out, Softirq{Nr: i, Action: act})
		}
	}
	return out, nil
}
