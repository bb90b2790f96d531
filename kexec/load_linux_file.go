//go:build linux && !arm

package kexec

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// einvalMeans is what EINVAL from kexec_file_load most often means.
const einvalMeans = "the kernel image or command line was refused: an image for another architecture, or a kernel without CONFIG_KEXEC_FILE's image loader"

// load gives the files to kexec_file_load (arm64, x86_64): the kernel
// parses the image, places the segments and builds the ELF core header.
func load(o Options) error { return loadFile(o) }

func unload(crash bool) error {
	flags := unix.KEXEC_FILE_UNLOAD
	if crash {
		flags |= unix.KEXEC_FILE_ON_CRASH
	}
	if err := unix.KexecFileLoad(-1, -1, "", flags); err != nil {
		return fmt.Errorf("SYS_kexec_file_load(unload, flags=%#x) = %w", flags, err)
	}
	return nil
}

func loadFile(o Options) error {
	k, err := os.Open(o.Kernel)
	if err != nil {
		return err
	}
	defer k.Close()
	initrd, flags := -1, 0
	if o.Initrd != "" {
		f, err := os.Open(o.Initrd)
		if err != nil {
			return err
		}
		defer f.Close()
		initrd = int(f.Fd())
	} else {
		flags |= unix.KEXEC_FILE_NO_INITRAMFS
	}
	if o.Crash {
		flags |= unix.KEXEC_FILE_ON_CRASH
	}
	if err := unix.KexecFileLoad(int(k.Fd()), initrd, o.Cmdline, flags); err != nil {
		return explain(fmt.Errorf("SYS_kexec_file_load(kernel=%s, initrd=%s, flags=%#x) = %w", o.Kernel, o.Initrd, flags, err), nil)
	}
	return nil
}
