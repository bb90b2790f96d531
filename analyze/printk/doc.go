// Package printk reads the kernel log out of a dump from VMCOREINFO alone,
// no vmlinux needed: the lockless printk ring buffer of Linux ≥ 5.10
// (kernel/printk/printk_ringbuffer.h: descriptor ring, info array, data
// ring) and the legacy log_buf of struct printk_log records before it.
//
// API: Read(mem, order, ptrSize, info) → *Log of Records in sequence
// order; (*Log).Write prints them as dmesg does, [seconds.micros] text.
package printk
