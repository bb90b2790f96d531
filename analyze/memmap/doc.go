// Package memmap classifies physical pages from the kernel's array of
// struct page (mem_map) using VMCOREINFO alone — no DWARF, so the capture
// tool on the board runs it — for makedumpfile's dump levels: a bitmask of
// 1 zero pages, 2 non-private page cache, 4 private page cache, 8 user
// (anonymous and hugetlbfs) pages, 16 free pages.
//
// It follows makedumpfile's __exclude_unnecessary_pages (learned from,
// not copied): where each pfn's struct page is (FLATMEM: the node's
// node_mem_map from node_start_pfn; SPARSEMEM: mem_section roots and each
// section's encoded section_mem_map, vmemmap included), which bits of
// page.flags mark LRU, private, swap cache, slab, hwpoison and compound
// heads, _mapcount's page types (PAGE_BUDDY_MAPCOUNT_VALUE and the
// others), mapping's anon bit, and a free block's order in page.private.
// Zero pages are found by the writer as it reads them, as makedumpfile
// does for kdump-compressed output.
package memmap
