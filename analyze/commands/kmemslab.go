package commands

import (
	"errors"
	"fmt"
	"io"

	"github.com/kdumpkit/kdumpkit/analyze/escape"
	"github.com/kdumpkit/kdumpkit/analyze/kernel"
)

// kmemSlabs is kmem -s and -S: every cache's counts, or one cache's
// (named, or the one holding an address); -S adds each slab the kernel
// can reach — per CPU and per node — with its objects, free ones plain
// and allocated ones [bracketed]. "list" names the caches.
func (s *Session) kmemSlabs(w io.Writer, arg string, objects bool) error {
	if err := s.needTypes("kmem -s"); err != nil {
		return err
	}
	if arg == "list" {
		caches, err := s.Kernel.SlabCaches()
		if len(caches) == 0 && err != nil {
			return fmt.Errorf("kmem: %w", err)
		}
		for _, c := range caches {
			fmt.Fprintf(w, "%-*x %s\n", 2*s.Kernel.PtrSize, c.Addr, escape.Text(c.Name))
		}
		if err != nil {
			s.warn(w, err)
		}
		return nil
	}
	if arg != "" {
		if addr, err := s.parseAddr(arg); err == nil && !isCacheName(s, arg) {
			h, err := s.Kernel.SlabHitAt(addr)
			if err != nil {
				return fmt.Errorf("kmem: %#x: %w", addr, err)
			}
			s.slabHit(w, h, objects)
			return nil
		}
		c, err := s.Kernel.SlabCacheByName(arg)
		if err != nil {
			return fmt.Errorf("kmem: %w", err)
		}
		s.cacheHeader(w)
		s.cacheRow(w, c)
		if objects {
			return s.cacheSlabs(w, c)
		}
		return nil
	}
	caches, err := s.Kernel.SlabCaches()
	if len(caches) == 0 && err != nil {
		return fmt.Errorf("kmem: %w", err)
	}
	s.cacheHeader(w)
	for i, c := range caches {
		if objects && i > 0 {
			s.cacheHeader(w)
		}
		s.cacheRow(w, c)
		if objects {
			if err := s.cacheSlabs(w, c); err != nil {
				s.warn(w, err)
			}
		}
	}
	if err != nil {
		s.warn(w, err)
	}
	return nil
}

// isCacheName: a slab cache name that also reads as hex ("dad") is the
// cache.
func isCacheName(s *Session, arg string) bool {
	_, err := s.Kernel.SlabCacheByName(arg)
	return err == nil
}

func (s *Session) cacheHeader(w io.Writer) {
	fmt.Fprintf(w, "%-*sOBJSIZE  ALLOCATED     TOTAL  SLABS  SSIZE  NAME\n", 2*s.Kernel.PtrSize+2, "CACHE")
}

// cacheRow is one line of kmem -s in crash's columns.
func (s *Session) cacheRow(w io.Writer, c kernel.SlabCache) {
	fmt.Fprintf(w, "%-*x %8d %10d %9d %6d %5dk  %s\n", 2*s.Kernel.PtrSize, c.Addr, c.ObjSize, c.Allocated(), c.Total, c.Slabs,
		c.SlabBytes(s.Kernel.PageSize())/1024, escape.Text(c.Name))
}

// cacheSlabs is -S's part after the cache's row: per CPU its
// kmem_cache_cpu, active slab and partial slabs, then per node its
// kmem_cache_node and partial slabs; full slabs are on no list.
func (s *Session) cacheSlabs(w io.Writer, c kernel.SlabCache) error {
	slabs, err := s.Kernel.CacheSlabs(c)
	cpus, cerr := s.Kernel.SlabCPUs(c)
	for cpu, pc := range cpus {
		fmt.Fprintf(w, "CPU %d KMEM_CACHE_CPU:\n  %x\n", cpu, pc)
		fmt.Fprintf(w, "CPU %d SLAB:\n", cpu)
		s.slabList(w, c, slabs, fmt.Sprintf("cpu %d", cpu))
		fmt.Fprintf(w, "CPU %d PARTIAL:\n", cpu)
		s.slabList(w, c, slabs, fmt.Sprintf("cpu %d partial", cpu))
	}
	d := 2 * s.Kernel.PtrSize
	fmt.Fprintf(w, "%-*s   NODE  SLABS  PARTIAL  PER-CPU\n", max(d, 15), "KMEM_CACHE_NODE")
	for node, n := range c.Nodes {
		fmt.Fprintf(w, "%-*x%7d%7d%9d%9d\n", max(d, 15), n, node, c.Slabs, c.Partial, c.CPUSlabs)
	}
	for node := range c.Nodes {
		fmt.Fprintf(w, "NODE %d PARTIAL:\n", node)
		s.slabList(w, c, slabs, fmt.Sprintf("node %d partial", node))
		fmt.Fprintf(w, "NODE %d FULL:\n  (not tracked)\n", node)
	}
	fmt.Fprintln(w)
	return errors.Join(err, cerr)
}

// slabList prints the slabs found at where, each with its objects.
func (s *Session) slabList(w io.Writer, c kernel.SlabCache, slabs []kernel.Slab, where string) {
	n := 0
	for _, sl := range slabs {
		if sl.Where != where {
			continue
		}
		n++
		s.slabHeader(w)
		s.slabRow(w, sl)
		fmt.Fprintln(w, "  FREE / [ALLOCATED]")
		for _, o := range c.Objects(sl) {
			objectLine(w, sl, o)
		}
	}
	if n == 0 {
		fmt.Fprintln(w, "  (empty)")
	}
}

func (s *Session) slabHeader(w io.Writer) {
	d := 2 * s.Kernel.PtrSize
	fmt.Fprintf(w, "  %-*s  %-*s  NODE  TOTAL  ALLOCATED  FREE\n", d, "SLAB", d, "MEMORY")
}

func (s *Session) slabRow(w io.Writer, sl kernel.Slab) {
	d := 2 * s.Kernel.PtrSize
	fmt.Fprintf(w, "  %-*x  %-*x  %4d  %5d  %9d  %4d\n", d, sl.Addr, d, sl.Mem, sl.Node, sl.Objects, sl.InUse, sl.Objects-sl.InUse)
}

// slabHit prints what kmem says of an address in a slab: the cache, the
// slab and the object, bracketed when allocated (all: every object of
// the slab, as -S does).
func (s *Session) slabHit(w io.Writer, h kernel.SlabHit, all bool) {
	s.cacheHeader(w)
	s.cacheRow(w, h.Cache)
	s.slabHeader(w)
	s.slabRow(w, h.Slab)
	fmt.Fprintln(w, "  FREE / [ALLOCATED]")
	if !all {
		objectLine(w, h.Slab, h.Object)
		return
	}
	for _, o := range h.Cache.Objects(h.Slab) {
		objectLine(w, h.Slab, o)
	}
}

// objectLine is one object of -S: free ones plain, those on a CPU's
// lockless freelist marked as crash marks them, allocated ones in
// brackets.
func objectLine(w io.Writer, sl kernel.Slab, o uint64) {
	switch {
	case sl.CPUFree[o] && sl.CPU >= 0:
		fmt.Fprintf(w, "   %x  (cpu %d cache)\n", o, sl.CPU)
	case sl.FreeObj[o]:
		fmt.Fprintf(w, "   %x  \n", o)
	default:
		fmt.Fprintf(w, "  [%x]\n", o)
	}
}
