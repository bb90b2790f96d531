package memmap

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/kdumpkit/kdumpkit/analyze/vmcoreinfo"
)

// Dump-level bits (makedumpfile -d).
const (
	ExcludeZero         = 1
	ExcludeCache        = 2
	ExcludeCachePrivate = 4
	ExcludeUser         = 8
	ExcludeFree         = 16
	MaxLevel            = 31
)

// Class is why a page is excluded.
type Class int

// Classes of excluded pages.
const (
	Kept Class = iota
	Cache
	CachePrivate
	User
	Free
	HWPoison // always excluded when mem_map is walked: reading it may fault
	Offline  // PAGE_OFFLINE: memory ballooned away
	numClasses
)

var classNames = [...]string{"kept", "cache", "private cache", "user", "free", "hwpoison", "offline"}

func (c Class) String() string { return classNames[c] }

// ErrLayout means VMCOREINFO lacks what the walk needs.
var ErrLayout = errors.New("VMCOREINFO cannot describe mem_map")

// Memory reads kernel virtual memory (an *arch.Memory).
type Memory interface {
	ReadVirt(addr uint64, buf []byte) error
}

// pageLayout is struct page as VMCOREINFO describes it.
type pageLayout struct {
	size                                             uint64
	flags, refcount, mapping, mapcount, private, cHd int64 // offsets; -1 when absent
	compoundOrder                                    int64 // OFFSET(page.compound_order), before 6.6
	lru, privateBit, swapcache, swapbacked, slab     int64 // PG_ bit numbers; -1 when absent
	hwpoison                                         int64
	headMask                                         uint64
	buddy, slabType, hugetlbType, offlineType        int64 // _mapcount page-type values; noType when absent
	hugetlbBit                                       int64 // NUMBER(PG_hugetlb), 6.6 to 6.8
	folioOrder                                       bool  // the order is the low byte of page[1].flags (6.6 on)
	maxOrder                                         uint64
}

const noType = int64(1) << 40

func readLayout(info *vmcoreinfo.Info) (*pageLayout, error) {
	l := &pageLayout{}
	var err error
	if l.size, err = info.Size("page"); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrLayout, err)
	}
	off := func(m string) int64 {
		v, err := info.Offset("page", m)
		if err != nil {
			return -1
		}
		return int64(v)
	}
	num := func(n string, absent int64) int64 {
		v, err := info.Number(n)
		if err != nil {
			return absent
		}
		return int64(int32(v)) // page-type values are ints: -129 and 0xf0000000 both as 32 bits
	}
	l.flags, l.refcount, l.mapping, l.mapcount, l.private, l.cHd = off("flags"), off("_refcount"), off("mapping"), off("_mapcount"), off("private"), off("compound_head")
	l.compoundOrder = off("compound_order")
	if l.flags < 0 || l.mapping < 0 {
		return nil, fmt.Errorf("%w: OFFSET(page.flags) and OFFSET(page.mapping) are needed", ErrLayout)
	}
	l.lru, l.privateBit, l.swapcache, l.swapbacked, l.slab, l.hwpoison = num("PG_lru", -1), num("PG_private", -1), num("PG_swapcache", -1), num("PG_swapbacked", -1), num("PG_slab", -1), num("PG_hwpoison", -1)
	if l.lru < 0 || l.privateBit < 0 {
		return nil, fmt.Errorf("%w: NUMBER(PG_lru) and NUMBER(PG_private) are needed", ErrLayout)
	}
	if v, err := info.Number("PG_head_mask"); err == nil {
		l.headMask = v
	}
	l.buddy, l.slabType, l.hugetlbType, l.offlineType = num("PAGE_BUDDY_MAPCOUNT_VALUE", noType), num("PAGE_SLAB_MAPCOUNT_VALUE", noType), num("PAGE_HUGETLB_MAPCOUNT_VALUE", noType), num("PAGE_OFFLINE_MAPCOUNT_VALUE", noType)
	l.hugetlbBit = num("PG_hugetlb", -1)
	l.folioOrder = l.hugetlbType != noType || l.hugetlbBit >= 0
	l.maxOrder = 11
	if v, err := info.Length("zone.free_area"); err == nil {
		l.maxOrder = v
	}
	return l, nil
}

// page is the fields of one struct page the filter looks at.
type page struct {
	flags, mapping, private, compoundHead uint64
	mapcount                              int64
}

func (l *pageLayout) decode(b []byte, order binary.ByteOrder, ptr int) page {
	word := func(o int64) uint64 {
		if o < 0 || o+int64(ptr) > int64(len(b)) {
			return 0
		}
		if ptr == 4 {
			return uint64(order.Uint32(b[o:]))
		}
		return order.Uint64(b[o:])
	}
	p := page{flags: word(l.flags), mapping: word(l.mapping), private: word(l.private), compoundHead: word(l.cHd), mapcount: noType}
	if l.mapcount >= 0 && l.mapcount+4 <= int64(len(b)) {
		p.mapcount = int64(int32(order.Uint32(b[l.mapcount:])))
	}
	return p
}

func bit(flags uint64, n int64) bool { return n >= 0 && n < 64 && flags&(1<<n) != 0 }

func (l *pageLayout) isSlab(p page) bool {
	return l.slabType != noType && p.mapcount == l.slabType || bit(p.flags, l.slab)
}

func (l *pageLayout) isBuddy(p page) bool {
	return l.buddy != noType && l.private >= 0 && !l.isSlab(p) && p.mapcount == l.buddy
}

func (l *pageLayout) isAnon(p page) bool { return p.mapping&1 != 0 && !l.isSlab(p) }

// isCache: on an LRU list, or in the swap cache (PG_swapcache counts only
// with PG_swapbacked since 4.10, where the bit is shared).
func (l *pageLayout) isCache(p page) bool {
	return bit(p.flags, l.lru) || (l.swapbacked < 0 || bit(p.flags, l.swapbacked)) && bit(p.flags, l.swapcache)
}

func (l *pageLayout) isOffline(p page) bool {
	return l.offlineType != noType && !l.isSlab(p) && p.mapcount == l.offlineType
}

// classify is makedumpfile's order of tests for a page that is not a
// compound tail: free, then non-private cache, cache, user, hwpoison,
// offline. hugetlb tells a hugetlbfs compound head.
func (l *pageLayout) classify(p page, level int, hugetlb bool) Class {
	switch {
	case level&ExcludeFree != 0 && l.isBuddy(p):
		return Free
	case level&ExcludeCache != 0 && l.isCache(p) && !bit(p.flags, l.privateBit) && !l.isAnon(p):
		return Cache
	case level&ExcludeCachePrivate != 0 && l.isCache(p) && !l.isAnon(p):
		if bit(p.flags, l.privateBit) {
			return CachePrivate
		}
		return Cache
	case level&ExcludeUser != 0 && (l.isAnon(p) || hugetlb):
		return User
	case bit(p.flags, l.hwpoison):
		return HWPoison
	case l.isOffline(p):
		return Offline
	}
	return Kept
}
