package kernel

import (
	"debug/dwarf"
	"fmt"

	"github.com/kdumpkit/kdumpkit/analyze/types"
)

// MemInfo is the machine-wide memory accounting crash's kmem -i prints,
// in pages, read as the kernel's si_meminfo() and /proc/meminfo compute
// it (mm/page_alloc.c, fs/proc/meminfo.c, 6.1).
type MemInfo struct {
	Total, Free, Shared, Buffers, Cached, Slab uint64
	// SharedPages is crash's SHARED: pages mapped more than once
	// (_refcount > 1); Shared is /proc/meminfo's Shmem.
	SharedPages            uint64
	HugeTotal, HugeFree    uint64
	SwapTotal, SwapFree    uint64
	CommitLimit, Committed uint64
}

// MemInfo reads the counters. Buffers walks blockdev_superblock's inodes
// (nr_blockdev_pages); a counter the kernel lacks reads as 0.
func (k *Kernel) MemInfo() (MemInfo, error) {
	var m MemInfo
	var err error
	if m.Total, err = k.atomicLong("_totalram_pages"); err != nil {
		if m.Total, err = k.atomicLong("totalram_pages"); err != nil { // before 5.0
			return m, err
		}
	}
	if m.Free, err = k.vmStat("vm_zone_stat", "enum zone_stat_item", "NR_FREE_PAGES"); err != nil {
		return m, err
	}
	m.Shared, _ = k.vmStat("vm_node_stat", "enum node_stat_item", "NR_SHMEM")
	file, _ := k.vmStat("vm_node_stat", "enum node_stat_item", "NR_FILE_PAGES")
	swapCache, _ := k.vmStat("vm_node_stat", "enum node_stat_item", "NR_SWAPCACHE")
	reclaimable, _ := k.vmStat("vm_node_stat", "enum node_stat_item", "NR_SLAB_RECLAIMABLE_B")
	unreclaimable, _ := k.vmStat("vm_node_stat", "enum node_stat_item", "NR_SLAB_UNRECLAIMABLE_B")
	m.Slab = reclaimable + unreclaimable
	m.Buffers = k.blockdevPages()
	if file > swapCache+m.Buffers {
		m.Cached = file - swapCache - m.Buffers
	}
	if a, err := k.symbol("total_swap_pages"); err == nil {
		m.SwapTotal, _ = k.ReadPtr(a)
	}
	m.SwapFree, _ = k.atomicLong("nr_swap_pages")
	if k.Types != nil {
		if a, err := k.symbol("hstates"); err == nil {
			m.HugeTotal, _ = k.field(a, "struct hstate", "nr_huge_pages")
			m.HugeFree, _ = k.field(a, "struct hstate", "free_huge_pages")
		}
	}
	ratio := uint64(50)
	if a, err := k.symbol("sysctl_overcommit_ratio"); err == nil {
		if v, err := k.ReadUint(a, 4); err == nil {
			ratio = v
		}
	}
	m.CommitLimit = (m.Total-min(m.HugeTotal, m.Total))*ratio/100 + m.SwapTotal
	if a, err := k.symbol("sysctl_overcommit_kbytes"); err == nil {
		if kb, err := k.ReadPtr(a); err == nil && kb != 0 {
			m.CommitLimit = kb*1024/k.PageSize() + m.SwapTotal
		}
	}
	// Committed_AS as /proc/meminfo reads it: the counter's count alone
	// (vm_memory_committed() is percpu_counter_read_positive).
	if a, err := k.symbol("vm_committed_as"); err == nil {
		if c, err := k.field(a, "struct percpu_counter", "count"); err == nil && k.signedWord(c) > 0 {
			m.Committed = c
		}
	}
	m.SharedPages, _ = k.sharedPages()
	return m, nil
}

// atomicLong reads an atomic_long_t (its counter is the first word).
func (k *Kernel) atomicLong(sym string) (uint64, error) {
	a, err := k.symbol(sym)
	if err != nil {
		return 0, err
	}
	return k.ReadPtr(a)
}

// vmStat reads array[item] of atomic_long_t, the item's index named in
// the enum's DWARF; a negative count (SMP drift) reads as 0.
func (k *Kernel) vmStat(array, enum, item string) (uint64, error) {
	i, err := k.EnumValue(enum, item)
	if err != nil {
		return 0, err
	}
	a, err := k.symbol(array)
	if err != nil {
		return 0, err
	}
	v, err := k.ReadPtr(a + uint64(i)*uint64(k.PtrSize))
	if err != nil {
		return 0, fmt.Errorf("%s[%s]: %w", array, item, err)
	}
	if k.signedWord(v) < 0 {
		return 0, nil
	}
	return v, nil
}

// signedWord reads a word as signed.
func (k *Kernel) signedWord(v uint64) int64 {
	if k.PtrSize == 4 {
		return int64(int32(v))
	}
	return int64(v)
}

// EnumValue is the value of an enumerator, from DWARF.
func (k *Kernel) EnumValue(enum, name string) (int64, error) {
	if k.Types == nil {
		return 0, fmt.Errorf("%s: %w", enum, ErrNoTypes)
	}
	t, err := k.Types.Named(enum)
	if err != nil {
		return 0, err
	}
	et, ok := types.Strip(t).(*dwarf.EnumType)
	if !ok {
		return 0, fmt.Errorf("%s is not an enum", enum)
	}
	for _, v := range et.Val {
		if v.Name == name {
			return v.Val, nil
		}
	}
	return 0, fmt.Errorf("%s has no %s", enum, name)
}

// sharedPages counts the pages whose _refcount is above 1, walking
// contig_page_data's mem_map as crash's kmem -i does for SHARED (not
// /proc/meminfo's Shmem).
func (k *Kernel) sharedPages() (uint64, error) {
	pgdat, err := k.symbol("contig_page_data")
	if err != nil {
		return 0, err
	}
	memMap, err := k.field(pgdat, "struct pglist_data", "node_mem_map")
	if err != nil {
		return 0, err
	}
	n, err := k.field(pgdat, "struct pglist_data", "node_spanned_pages")
	if err != nil {
		return 0, err
	}
	size, err := k.Types.Size("struct page")
	if err != nil || size <= 0 {
		return 0, fmt.Errorf("struct page: %v", err)
	}
	ref, err := k.off("struct page", "_refcount")
	if err != nil {
		return 0, err
	}
	const chunk = 1024
	buf := make([]byte, chunk*size)
	var shared uint64
	for i := uint64(0); i < n; i += chunk {
		c := min(chunk, n-i)
		if err := k.Mem.ReadVirt(memMap+i*uint64(size), buf[:c*uint64(size)]); err != nil {
			continue // a hole in mem_map the dump left out
		}
		for j := uint64(0); j < c; j++ {
			if int32(k.Uint(buf[j*uint64(size)+uint64(ref):], 4)) > 1 {
				shared++
			}
		}
	}
	return shared, nil
}

// maxBlockdevInodes bounds the walk of blockdev_superblock's inodes.
const maxBlockdevInodes = 1 << 16

// blockdevPages is nr_blockdev_pages() (block/bdev.c): the page cache of
// every block device inode, the "buffers" of /proc/meminfo.
func (k *Kernel) blockdevPages() uint64 {
	sbp, err := k.symbol("blockdev_superblock")
	if err != nil {
		return 0
	}
	sb, err := k.ReadPtr(sbp)
	if err != nil || sb == 0 {
		return 0
	}
	headOff, err1 := k.off("struct super_block", "s_inodes")
	listOff, err2 := k.off("struct inode", "i_sb_list")
	if err1 != nil || err2 != nil {
		return 0
	}
	nodes, _ := k.walkList(sb + uint64(headOff))
	var n uint64
	for i, node := range nodes {
		if i >= maxBlockdevInodes {
			break
		}
		inode := node - uint64(listOff)
		mapping, err := k.field(inode, "struct inode", "i_mapping")
		if err != nil || mapping == 0 {
			continue
		}
		if p, err := k.field(mapping, "struct address_space", "nrpages"); err == nil {
			n += p
		}
	}
	return n
}
