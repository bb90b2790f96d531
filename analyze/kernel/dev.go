package kernel

import (
	"errors"
	"fmt"
)

// CharDev is one registered character device major range: a struct
// char_device_struct (fs/char_dev.c) on the chrdevs[] hash.
type CharDev struct {
	Addr      uint64
	Major     uint64
	BaseMinor uint64
	Name      string
	// Cdev is the struct cdev serving the range: char_device_struct.cdev
	// (set by register_chrdev), else the one cdev_add registered for
	// the range's first device in cdev_map (tty, input...); 0 for none.
	Cdev uint64
	Ops  uint64 // the cdev's file_operations; 0 with Cdev 0
}

// BlockDev is one registered block device major: a struct
// blk_major_name (block/genhd.c) on the major_names[] hash.
type BlockDev struct {
	Addr  uint64
	Major uint64
	Name  string
	// Disk is the first gendisk of that major among the block device
	// inodes (blockdev_superblock's s_inodes, as crash looks since
	// 5.11 dropped bdev_map); 0 for none.
	Disk uint64
	Ops  uint64 // the gendisk's block_device_operations
}

// devHashSize is CHRDEV_MAJOR_HASH_SIZE and BLKDEV_MAJOR_HASH_SIZE (255
// in every kernel since 2.6), the bound used when DWARF gives no array
// length.
const devHashSize = 255

// maxDevs bounds the majors (the kernel allows 512 character and 512
// block majors, each range one entry) and the probes read; maxDevChain
// bounds the block device inodes, one for each disk and partition.
const (
	maxDevs     = 1 << 12
	maxDevChain = 1 << 16
)

// CharDevs walks chrdevs[]: each bucket's chain in order, as the kernel's
// /proc/devices and crash's dev print them.
func (k *Kernel) CharDevs() ([]CharDev, error) {
	if k.Types == nil {
		return nil, fmt.Errorf("chrdevs: %w", ErrNoTypes)
	}
	heads, err := k.hashHeads("chrdevs")
	if err != nil {
		return nil, err
	}
	nameOff, err := k.off("struct char_device_struct", "name")
	if err != nil {
		return nil, err
	}
	nameF, _ := k.Types.FieldOf("struct char_device_struct", "name")
	probes := k.cdevProbes()
	var out []CharDev
	var errs []error
	seen := map[uint64]bool{} // an entry is on one chain only
	for _, head := range heads {
		for cd := head; cd != 0; {
			if seen[cd] || len(seen) >= maxDevs {
				errs = append(errs, fmt.Errorf("chrdevs: char_device_struct chain loops or passes %d entries at %#x: %w", maxDevs, cd, ErrLoop))
				break
			}
			seen[cd] = true
			d := CharDev{Addr: cd}
			var err error
			if d.Major, err = k.field(cd, "struct char_device_struct", "major"); err != nil {
				errs = append(errs, fmt.Errorf("chrdevs: %w", err))
				break
			}
			d.BaseMinor, _ = k.field(cd, "struct char_device_struct", "baseminor")
			d.Name, _ = k.ReadString(cd+uint64(nameOff), int(max(nameF.Size, 1)))
			d.Cdev, _ = k.field(cd, "struct char_device_struct", "cdev")
			if d.Cdev != 0 {
				d.Ops, _ = k.field(d.Cdev, "struct cdev", "ops")
			} else if c := probes[d.Major<<20|d.BaseMinor]; c != 0 { // a dev_t has 20 minor bits
				if ops, err := k.field(c, "struct cdev", "ops"); err == nil {
					d.Cdev, d.Ops = c, ops
				}
			}
			out = append(out, d)
			if cd, err = k.field(cd, "struct char_device_struct", "next"); err != nil {
				errs = append(errs, fmt.Errorf("chrdevs: %w", err))
				break
			}
		}
	}
	return out, errors.Join(errs...)
}

// BlockDevs walks major_names[] in bucket and chain order and names each
// major's first gendisk.
func (k *Kernel) BlockDevs() ([]BlockDev, error) {
	if k.Types == nil {
		return nil, fmt.Errorf("major_names: %w", ErrNoTypes)
	}
	heads, err := k.hashHeads("major_names")
	if err != nil {
		return nil, err
	}
	nameOff, err := k.off("struct blk_major_name", "name")
	if err != nil {
		return nil, err
	}
	nameF, _ := k.Types.FieldOf("struct blk_major_name", "name")
	disks, diskErr := k.gendisks()
	var out []BlockDev
	var errs []error
	if diskErr != nil {
		errs = append(errs, diskErr)
	}
	seen := map[uint64]bool{} // an entry is on one chain only
	for _, head := range heads {
		for bm := head; bm != 0; {
			if seen[bm] || len(seen) >= maxDevs {
				errs = append(errs, fmt.Errorf("major_names: blk_major_name chain loops or passes %d entries at %#x: %w", maxDevs, bm, ErrLoop))
				break
			}
			seen[bm] = true
			d := BlockDev{Addr: bm}
			var err error
			if d.Major, err = k.field(bm, "struct blk_major_name", "major"); err != nil {
				errs = append(errs, fmt.Errorf("major_names: %w", err))
				break
			}
			d.Major &= 0xffffffff // an int in the kernel
			d.Name, _ = k.ReadString(bm+uint64(nameOff), int(max(nameF.Size, 1)))
			if g, ok := disks[d.Major]; ok {
				d.Disk, d.Ops = g.addr, g.ops
			}
			out = append(out, d)
			if bm, err = k.field(bm, "struct blk_major_name", "next"); err != nil {
				errs = append(errs, fmt.Errorf("major_names: %w", err))
				break
			}
		}
	}
	return out, errors.Join(errs...)
}

// hashHeads reads the pointer array sym (its length from DWARF, else
// devHashSize).
func (k *Kernel) hashHeads(sym string) ([]uint64, error) {
	addr, err := k.symbol(sym)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", sym, err)
	}
	n := devHashSize
	if t, err := k.Types.Variable(sym); err == nil && t.Size() > 0 && t.Size()/int64(k.PtrSize) <= maxDevs {
		n = int(t.Size() / int64(k.PtrSize))
	}
	buf := make([]byte, n*k.PtrSize)
	if err := k.Mem.ReadVirt(addr, buf); err != nil {
		return nil, fmt.Errorf("%s[] at %#x: %w", sym, addr, err)
	}
	heads := make([]uint64, n)
	for i := range heads {
		heads[i] = k.Uint(buf[i*k.PtrSize:], k.PtrSize)
	}
	return heads, nil
}

// cdevProbes indexes cdev_map's probes[] hash (drivers/base/map.c: for
// each major % 255 a chain of struct probe, one for each cdev_add) by
// dev_t, the first probe of a dev_t winning as in the kernel's lookup;
// nil when there is no cdev_map. A probe's data is its struct cdev.
func (k *Kernel) cdevProbes() map[uint64]uint64 {
	a, err := k.symbol("cdev_map")
	if err != nil {
		return nil
	}
	m, err := k.ReadPtr(a)
	if err != nil || m == 0 {
		return nil
	}
	off, err := k.off("struct kobj_map", "probes")
	if err != nil {
		return nil
	}
	buf := make([]byte, devHashSize*k.PtrSize)
	if k.Mem.ReadVirt(m+uint64(off), buf) != nil {
		return nil
	}
	byDev := map[uint64]uint64{}
	seen := map[uint64]bool{}
	for i := 0; i < devHashSize; i++ {
		for pr := k.Uint(buf[i*k.PtrSize:], k.PtrSize); pr != 0 && !seen[pr] && len(seen) < maxDevs; {
			seen[pr] = true
			dev, err := k.field(pr, "struct probe", "dev")
			if err != nil {
				break
			}
			if _, dup := byDev[dev]; !dup {
				byDev[dev], _ = k.field(pr, "struct probe", "data")
			}
			if pr, err = k.field(pr, "struct probe", "next"); err != nil {
				break
			}
		}
	}
	return byDev
}

type gendiskRef struct{ addr, ops uint64 }

// gendisks maps each major to the first gendisk with operations among the
// block device inodes on blockdev_superblock, in s_inodes order, as crash
// picks it: an inode there is the vfs_inode of a struct bdev_inode, right
// after its struct block_device (block/bdev.c).
func (k *Kernel) gendisks() (map[uint64]gendiskRef, error) {
	a, err := k.symbol("blockdev_superblock")
	if err != nil {
		return nil, nil // before 5.11 crash looks in bdev_map; no disks named
	}
	sb, err := k.ReadPtr(a)
	if err != nil {
		return nil, fmt.Errorf("blockdev_superblock at %#x: %w", a, err)
	}
	if sb == 0 { // bdev_cache_init has not run: no disks yet
		return nil, nil
	}
	headOff, err := k.off("struct super_block", "s_inodes")
	if err != nil {
		return nil, err
	}
	linkOff, err := k.off("struct inode", "i_sb_list")
	if err != nil {
		return nil, err
	}
	bdevSize, err := k.Types.Size("struct block_device")
	if err != nil {
		return nil, err
	}
	head := sb + uint64(headOff)
	first, err := k.ReadPtr(head)
	if err != nil {
		return nil, fmt.Errorf("blockdev_superblock's s_inodes at %#x: %w", head, err)
	}
	if first == head || first == 0 {
		return nil, nil
	}
	inodes, werr := k.ListEntries((first-uint64(linkOff))&k.mask(), linkOff, head, false, maxDevChain)
	out := map[uint64]gendiskRef{}
	for _, in := range inodes {
		disk, err := k.field(in-uint64(bdevSize), "struct block_device", "bd_disk")
		if err != nil || disk == 0 {
			continue
		}
		major, err := k.field(disk, "struct gendisk", "major")
		if err != nil {
			continue
		}
		major &= 0xffffffff // an int in the kernel
		if _, ok := out[major]; ok {
			continue
		}
		if ops, _ := k.field(disk, "struct gendisk", "fops"); ops != 0 {
			out[major] = gendiskRef{disk, ops}
		}
	}
	if werr != nil {
		werr = fmt.Errorf("blockdev_superblock's inodes: %w", werr)
	}
	return out, werr
}
