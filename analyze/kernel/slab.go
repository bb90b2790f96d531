package kernel

import (
	"errors"
	"fmt"
	"math/bits"
)

// SLUB's caches, slabs and objects, read as mm/slub.c (6.1, 6.12) keeps
// them: slab_caches lists every struct kmem_cache; each has a per-CPU
// struct kmem_cache_cpu (the active slab, its lockless freelist, and with
// SLUB_CPU_PARTIAL a chain of partial slabs) and a struct
// kmem_cache_node per node (partial slabs, and with SLUB_DEBUG the
// counts of all slabs and objects). A struct slab overlays the struct
// page of the slab's first page; its freelist chains the free objects
// through the word at s->offset in each.

// ErrNoSlub means the kernel's slab allocator is not SLUB (SLAB and SLOB
// are not read).
var ErrNoSlub = errors.New("not a SLUB kernel (no struct kmem_cache_cpu)")

// SlabCache is one struct kmem_cache with its counts.
type SlabCache struct {
	Addr    uint64
	Name    string
	ObjSize uint64 // object_size: what the caller asked for
	Size    uint64 // size: the stride, metadata included
	Offset  uint64 // where a free object holds the next free pointer
	Order   uint64 // pages per slab = 1 << Order
	PerSlab uint64 // objects per slab
	// Slabs and Total are the nodes' nr_slabs and total_objects (the
	// kernel's own counts, SLUB_DEBUG); Free is what the walk of every
	// per-CPU and partial slab found free, so Allocated = Total - Free.
	Slabs, Total, Free uint64
	Nodes              []uint64 // kmem_cache_node per node, 0 where none
	// Partial is the nodes' nr_partial summed; CPUSlabs the CPUs with an
	// active slab.
	Partial, CPUSlabs uint64
	redLeft           uint64
	random            uint64 // s->random when freelist pointers are hardened
	hardened          bool
}

// Allocated is the objects in use: all the cache's objects less the free
// ones its per-CPU and partial slabs hold.
func (c SlabCache) Allocated() uint64 {
	if c.Free > c.Total {
		return 0
	}
	return c.Total - c.Free
}

// SlabBytes is one slab's size.
func (c SlabCache) SlabBytes(pageSize uint64) uint64 { return pageSize << c.Order }

// Slab is one slab of a cache.
type Slab struct {
	Addr    uint64 // the struct slab (= its first struct page)
	Mem     uint64 // the first object's page, by its kernel address
	Node    int
	Objects uint64
	InUse   uint64 // objects - free found by the walk
	// Where: "cpu N" (the active slab), "cpu N partial", "node N partial".
	Where string
	CPU   int // for "cpu N" slabs; -1 otherwise
	// FreeObj holds the free objects' addresses; CPUFree those of them
	// on the CPU's lockless freelist (kmem_cache_cpu.freelist).
	FreeObj, CPUFree map[uint64]bool
}

// Objects returns the addresses of a slab's objects in order.
func (c SlabCache) Objects(s Slab) []uint64 {
	out := make([]uint64, 0, s.Objects)
	for i := uint64(0); i < s.Objects; i++ {
		out = append(out, s.Mem+c.redLeft+i*c.Size)
	}
	return out
}

// maxSlabCaches bounds the slab_caches walk.
const maxSlabCaches = 1 << 14

// SlabCaches reads every cache on slab_caches, newest first (as the list
// holds them and crash prints them), with its counts.
func (k *Kernel) SlabCaches() ([]SlabCache, error) {
	if k.Types == nil {
		return nil, fmt.Errorf("slab caches: %w", ErrNoTypes)
	}
	if _, err := k.Types.Size("struct kmem_cache_cpu"); err != nil {
		return nil, ErrNoSlub
	}
	head, err := k.symbol("slab_caches")
	if err != nil {
		return nil, fmt.Errorf("slab_caches: %w", err)
	}
	listOff, err := k.off("struct kmem_cache", "list")
	if err != nil {
		return nil, err
	}
	nodes, werr := k.walkList(head)
	var out []SlabCache
	for i, n := range nodes {
		if i >= maxSlabCaches {
			return out, fmt.Errorf("slab_caches: more than %d caches: %w", maxSlabCaches, ErrLoop)
		}
		c, err := k.SlabCacheAt(n - uint64(listOff))
		if err != nil {
			return out, err
		}
		out = append(out, c)
	}
	return out, werr
}

// SlabCacheByName finds a cache on slab_caches by name.
func (k *Kernel) SlabCacheByName(name string) (SlabCache, error) {
	cs, err := k.SlabCaches()
	for _, c := range cs {
		if c.Name == name {
			return c, nil
		}
	}
	if err != nil {
		return SlabCache{}, err
	}
	return SlabCache{}, fmt.Errorf("no slab cache named %q", name)
}

// SlabCacheAt reads the struct kmem_cache at addr and counts its objects.
func (k *Kernel) SlabCacheAt(addr uint64) (SlabCache, error) {
	const kc = "struct kmem_cache"
	c := SlabCache{Addr: addr}
	namePtr, err := k.field(addr, kc, "name")
	if err != nil {
		return c, fmt.Errorf("kmem_cache %#x: %w", addr, err)
	}
	if c.Name, err = k.ReadString(namePtr, 64); err != nil {
		return c, fmt.Errorf("kmem_cache %#x: name at %#x: %w", addr, namePtr, err)
	}
	for _, f := range []struct {
		dst  *uint64
		name string
	}{{&c.ObjSize, "object_size"}, {&c.Size, "size"}, {&c.Offset, "offset"}} {
		if *f.dst, err = k.field(addr, kc, f.name); err != nil {
			return c, fmt.Errorf("kmem_cache %#x (%s): %w", addr, c.Name, err)
		}
	}
	oo, err := k.field(addr, kc, "oo.x")
	if err != nil {
		return c, fmt.Errorf("kmem_cache %#x (%s): %w", addr, c.Name, err)
	}
	// OO_SHIFT is 16: order above, objects below.
	c.Order, c.PerSlab = oo>>16, oo&0xffff
	c.redLeft, _ = k.field(addr, kc, "red_left_pad")
	if r, err := k.field(addr, kc, "random"); err == nil {
		c.random, c.hardened = r, true
	}
	if c.Size == 0 || c.Order > 10 || c.Size<<c.Order > 1<<30 {
		return c, fmt.Errorf("kmem_cache %#x (%s): size %d, order %d: not a cache", addr, c.Name, c.Size, c.Order)
	}
	nodeF, err := k.Types.FieldOf(kc, "node")
	if err != nil {
		return c, err
	}
	for i := int64(0); i < nodeF.Size/int64(k.PtrSize); i++ {
		n, err := k.ReadPtr(addr + uint64(nodeF.Offset) + uint64(i)*uint64(k.PtrSize))
		if err != nil {
			return c, fmt.Errorf("kmem_cache %#x (%s) node[%d]: %w", addr, c.Name, i, err)
		}
		c.Nodes = append(c.Nodes, n)
	}
	for len(c.Nodes) > 1 && c.Nodes[len(c.Nodes)-1] == 0 {
		c.Nodes = c.Nodes[:len(c.Nodes)-1]
	}
	for _, n := range c.Nodes {
		if n == 0 {
			continue
		}
		s, _ := k.field(n, "struct kmem_cache_node", "nr_slabs")
		t, _ := k.field(n, "struct kmem_cache_node", "total_objects")
		p, _ := k.field(n, "struct kmem_cache_node", "nr_partial")
		c.Slabs, c.Total, c.Partial = c.Slabs+s, c.Total+t, c.Partial+p
	}
	slabs, err := k.CacheSlabs(c)
	for _, s := range slabs {
		c.Free += s.Objects - s.InUse
		if s.CPU >= 0 {
			c.CPUSlabs++
		}
	}
	return c, err
}

// slabMem returns the kernel address of a struct slab's memory: its
// pfn's linear-map address.
func (k *Kernel) slabMem(m *memMap, slab uint64) (uint64, error) {
	pfn, ok := m.pfn(slab)
	if !ok {
		return 0, fmt.Errorf("slab %#x is not a struct page", slab)
	}
	return k.PhysToVirt(pfn * k.PageSize())
}

// CacheSlabs returns a cache's slabs that the kernel can reach: each
// CPU's active slab and partial slabs, and each node's partial list.
// Full slabs are on no list (unless slub_debug tracks them), so they are
// counted, not listed.
func (k *Kernel) CacheSlabs(c SlabCache) ([]Slab, error) {
	m, err := k.memMap()
	if err != nil {
		return nil, err
	}
	var out []Slab
	var errs []error
	cpuSlab, err := k.field(c.Addr, "struct kmem_cache", "cpu_slab")
	if err != nil {
		return nil, err
	}
	for cpu := 0; cpu < k.possibleCPUs(); cpu++ {
		off, err := k.perCPUOffset(cpu)
		if err != nil {
			errs = append(errs, err)
			break
		}
		pc := (cpuSlab + off) & k.mask()
		active, err := k.field(pc, "struct kmem_cache_cpu", "slab")
		if err != nil {
			errs = append(errs, fmt.Errorf("%s cpu %d kmem_cache_cpu %#x: %w", c.Name, cpu, pc, err))
			continue
		}
		if active != 0 {
			lockless, _ := k.field(pc, "struct kmem_cache_cpu", "freelist")
			s, err := k.readSlab(m, c, active, lockless)
			s.Where, s.CPU = fmt.Sprintf("cpu %d", cpu), cpu
			if err != nil {
				errs = append(errs, err)
			} else {
				out = append(out, s)
			}
		}
		// SLUB_CPU_PARTIAL: partial slabs chained through slab->next.
		next, err := k.field(pc, "struct kmem_cache_cpu", "partial")
		for n := 0; err == nil && next != 0; n++ {
			if n > maxSlabsWalked {
				errs = append(errs, fmt.Errorf("%s cpu %d partial slabs: %w", c.Name, cpu, ErrLoop))
				break
			}
			s, err := k.readSlab(m, c, next, 0)
			if err != nil {
				errs = append(errs, err)
				break
			}
			s.Where, s.CPU = fmt.Sprintf("cpu %d partial", cpu), -1
			out = append(out, s)
			next, err = k.field(next, "struct slab", "next")
		}
	}
	listOff, err := k.off("struct slab", "slab_list")
	if err != nil {
		return out, err
	}
	partialOff, err := k.off("struct kmem_cache_node", "partial")
	if err != nil {
		return out, err
	}
	for node, n := range c.Nodes {
		if n == 0 {
			continue
		}
		links, err := k.walkList(n + uint64(partialOff))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s node %d partial list: %w", c.Name, node, err))
		}
		for _, l := range links {
			s, err := k.readSlab(m, c, l-uint64(listOff), 0)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			s.Where, s.CPU = fmt.Sprintf("node %d partial", node), -1
			out = append(out, s)
		}
	}
	return out, errors.Join(errs...)
}

// SlabCPUs returns each CPU's struct kmem_cache_cpu of a cache.
func (k *Kernel) SlabCPUs(c SlabCache) ([]uint64, error) {
	cpuSlab, err := k.field(c.Addr, "struct kmem_cache", "cpu_slab")
	if err != nil {
		return nil, err
	}
	var out []uint64
	for cpu := 0; cpu < k.possibleCPUs(); cpu++ {
		off, err := k.perCPUOffset(cpu)
		if err != nil {
			return out, err
		}
		out = append(out, (cpuSlab+off)&k.mask())
	}
	return out, nil
}

// maxSlabsWalked bounds a per-CPU partial chain.
const maxSlabsWalked = 1 << 16

// readSlab reads a struct slab and follows its freelist (and, for a CPU's
// active slab, the lockless per-CPU freelist) to find its free objects.
func (k *Kernel) readSlab(m *memMap, c SlabCache, addr, lockless uint64) (Slab, error) {
	s := Slab{Addr: addr, CPU: -1, FreeObj: map[uint64]bool{}, CPUFree: map[uint64]bool{}}
	cache, err := k.field(addr, "struct slab", "slab_cache")
	if err != nil {
		return s, fmt.Errorf("%s slab %#x: %w", c.Name, addr, err)
	}
	if cache != c.Addr {
		return s, fmt.Errorf("%s slab %#x belongs to cache %#x, not %#x", c.Name, addr, cache, c.Addr)
	}
	if s.Objects, err = k.field(addr, "struct slab", "objects"); err != nil {
		return s, err
	}
	if s.Objects > c.PerSlab*2+1 || s.Objects > 1<<15 {
		return s, fmt.Errorf("%s slab %#x: %d objects, the cache has %d a slab", c.Name, addr, s.Objects, c.PerSlab)
	}
	if s.Mem, err = k.slabMem(m, addr); err != nil {
		return s, fmt.Errorf("%s: %w", c.Name, err)
	}
	if pfn, ok := m.pfn(addr); ok {
		s.Node = k.pfnNode(pfn)
	}
	free, _ := k.field(addr, "struct slab", "freelist")
	if err := k.chainFree(c, s, free, nil); err != nil {
		return s, err
	}
	if err := k.chainFree(c, s, lockless, s.CPUFree); err != nil {
		return s, err
	}
	s.InUse = s.Objects - uint64(len(s.FreeObj))
	return s, nil
}

// chainFree follows a freelist from head, adding each object to s.FreeObj;
// a pointer outside the slab or an object met twice is an error naming it.
func (k *Kernel) chainFree(c SlabCache, s Slab, head uint64, also map[uint64]bool) error {
	end := s.Mem + c.redLeft + s.Objects*c.Size
	for obj := head; obj != 0; {
		if obj < s.Mem || obj >= end || (obj-s.Mem-c.redLeft)%c.Size != 0 {
			return fmt.Errorf("%s slab %#x: free pointer %#x is not an object of the slab", c.Name, s.Addr, obj)
		}
		if s.FreeObj[obj] {
			return fmt.Errorf("%s slab %#x: free object %#x met twice: %w", c.Name, s.Addr, obj, ErrLoop)
		}
		s.FreeObj[obj] = true
		if also != nil {
			also[obj] = true
		}
		next, err := k.ReadPtr(obj + c.Offset)
		if err != nil {
			return fmt.Errorf("%s slab %#x: free object %#x: %w", c.Name, s.Addr, obj, err)
		}
		if c.hardened {
			// CONFIG_SLAB_FREELIST_HARDENED: ptr ^ s->random ^
			// swab(address of the pointer).
			at := obj + c.Offset
			sw := bits.ReverseBytes64(at)
			if k.PtrSize == 4 {
				sw = uint64(bits.ReverseBytes32(uint32(at)))
			}
			next = (next ^ c.random ^ sw) & k.mask()
		}
		obj = next
	}
	return nil
}

// pfnNode is the NUMA node of a pfn; every kernel read here has one.
func (k *Kernel) pfnNode(uint64) int { return 0 }

// perCPUOffset is __per_cpu_offset[cpu] (0 on a kernel without SMP),
// added to a __percpu pointer to reach cpu's copy.
func (k *Kernel) perCPUOffset(cpu int) (uint64, error) {
	offs, err := k.symbol("__per_cpu_offset")
	if err != nil {
		return 0, nil
	}
	if n := k.possibleCPUs(); cpu < 0 || cpu >= n {
		return 0, fmt.Errorf("cpu %d: the kernel has CPUs 0 to %d", cpu, n-1)
	}
	o, err := k.ReadPtr(offs + uint64(cpu*k.PtrSize))
	if err != nil {
		return 0, fmt.Errorf("__per_cpu_offset[%d]: %w", cpu, err)
	}
	return o, nil
}

// SlabHit is what kmem says of an address in a slab object: the cache
// with its counts, the slab, the object and whether it is free.
type SlabHit struct {
	Cache  SlabCache
	Slab   Slab
	Object uint64 // the object's first byte
	Free   bool
	// Listed is false for a full slab, which is on no list (its objects
	// are all allocated).
	Listed bool
}

// SlabHitAt finds the slab object holding a kernel address
// (SlabObjectAt), then its slab among the cache's per-CPU and partial
// slabs, or, for a full slab, from the object's head page.
func (k *Kernel) SlabHitAt(addr uint64) (SlabHit, error) {
	var h SlabHit
	o, err := k.SlabObjectAt(addr)
	if err != nil {
		return h, err
	}
	if h.Cache, err = k.SlabCacheAt(o.CacheAddr); err != nil {
		return h, err
	}
	h.Object = o.Object
	slabs, _ := k.CacheSlabs(h.Cache)
	for _, s := range slabs {
		if o.Object >= s.Mem && o.Object < s.Mem+h.Cache.redLeft+s.Objects*h.Cache.Size {
			h.Slab, h.Listed = s, true
		}
	}
	if !h.Listed {
		m, err := k.memMap()
		if err != nil {
			return h, err
		}
		pa, err := k.VirtToPhys(o.Object)
		if err != nil {
			return h, err
		}
		page, ok := m.page(pa / k.PageSize())
		if !ok {
			return h, fmt.Errorf("slab object %#x: pfn %#x has no struct page", o.Object, pa/k.PageSize())
		}
		if ch, err := k.field(page, "struct page", "compound_head"); err == nil && ch&1 != 0 {
			page = (ch &^ 1) & k.mask()
		}
		if h.Slab, err = k.readSlab(m, h.Cache, page, 0); err != nil {
			return h, err
		}
	}
	h.Free = h.Slab.FreeObj[h.Object]
	return h, nil
}
