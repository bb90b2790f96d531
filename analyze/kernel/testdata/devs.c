/* The structs the dev walkers read, as fs/char_dev.c, drivers/base/map.c,
 * block/genhd.c and block/bdev.c (6.1, 6.12) define them, cut to the
 * members used (with a leading pad where the kernel has more), for
 * dev_fuzz_test.go. */
struct list_head {
	struct list_head *next, *prev;
};
struct file_operations;
struct cdev {
	char kobj[64];
	void *owner;
	const struct file_operations *ops;
};
struct char_device_struct {
	struct char_device_struct *next;
	unsigned int major;
	unsigned int baseminor;
	int minorct;
	char name[64];
	struct cdev *cdev;
} *chrdevs[255];
struct kobj_map {
	struct probe {
		struct probe *next;
		unsigned int dev;
		unsigned long range;
		void *owner;
		void *get;
		void *lock;
		void *data;
	} *probes[255];
	void *lock;
} *cdev_map;
struct block_device_operations;
struct gendisk {
	int major;
	int first_minor;
	int minors;
	char disk_name[32];
	const struct block_device_operations *fops;
};
struct block_device {
	unsigned long bd_start_sect;
	struct gendisk *bd_disk;
};
struct inode {
	unsigned long i_state;
	struct list_head i_sb_list;
};
struct super_block {
	struct list_head s_list;
	struct list_head s_inodes;
} *blockdev_superblock;
struct blk_major_name {
	struct blk_major_name *next;
	int major;
	char name[16];
	void (*probe)(unsigned int devt);
} *major_names[255];
/* include/linux/ioport.h */
struct resource {
	unsigned long start;
	unsigned long end;
	const char *name;
	unsigned long flags;
	unsigned long desc;
	struct resource *parent, *sibling, *child;
} iomem_resource;
