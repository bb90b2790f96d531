// Command kdumpinit is the initramfs's uinit: u-root's init runs it after
// mounting /proc, /sys and /dev. What it does depends on the boot:
//
//   - capture kernel (/proc/vmcore exists): save the dump with
//     /bbin/capture, then power off;
//   - otherwise load the crash kernel with /bbin/kexec and print the READY
//     marker; with kdumpkit.mode=test also print the ground truth and
//     crash the kernel from a child process (kdumpkit.crash=sysrq or an
//     LKDTM type).
//
// Settings come from /kdump/config (written by the rootfs build from the
// board file) and are overridden by kdumpkit.* kernel parameters.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) == 3 && os.Args[1] == "-trigger" {
		// The child that crashes the kernel: its PID and comm are what
		// the panic records, kept apart from init's.
		err := trigger(os.Args[2])
		fmt.Printf("kdumpinit: crash %s did not happen: %v\n", os.Args[2], err)
		os.Exit(1)
	}
	if err := run(); err != nil {
		fmt.Printf("kdumpinit: %v\n", err)
		os.Exit(1)
	}
}
