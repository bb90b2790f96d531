//go:build linux && !arm

package kexec

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// fileMeans are kexec_file_load's errnos beyond the common ones.
var fileMeans = meanings{
	unix.EINVAL:  "the kernel image or command line was refused: an image for another architecture, or a kernel without CONFIG_KEXEC_FILE's image loader",
	unix.ENOEXEC: "no image loader of this kernel recognizes the file (arm64 takes an uncompressed Image, x86_64 a bzImage)",
}

// fileUnsupported reports whether kexec_file_load failed because the
// kernel cannot load this way at all, rather than because of the files:
// the errors after which MethodAuto tries kexec_load.
func fileUnsupported(err error) bool {
	return errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.ENOEXEC) || errors.Is(err, unix.EINVAL)
}

// loadWith loads with file (kexec_file_load), segments (kexec_load) or,
// for MethodAuto, file and then segments when the kernel cannot load
// through file at all.
func loadWith(o Options, file, segments func(Options) error) (Loaded, error) {
	switch o.Method {
	case MethodFile:
		return Loaded{Method: MethodFile}, file(o)
	case MethodLoad:
		return Loaded{Method: MethodLoad}, segments(o)
	}
	err := file(o)
	if err == nil || !fileUnsupported(err) {
		return Loaded{Method: MethodFile}, err
	}
	if err2 := segments(o); err2 != nil {
		return Loaded{}, fmt.Errorf("%v; then kexec_load: %w", err, err2)
	}
	return Loaded{Method: MethodLoad, Fallback: err}, nil
}

// unloadFile unloads with kexec_file_load, whichever call loaded it.
func unloadFile(crash bool) error {
	flags := unix.KEXEC_FILE_UNLOAD
	if crash {
		flags |= unix.KEXEC_FILE_ON_CRASH
	}
	if err := unix.KexecFileLoad(-1, -1, "", flags); err != nil {
		return fmt.Errorf("SYS_kexec_file_load(unload, flags=%#x) = %w", flags, err)
	}
	return nil
}

// loadFile gives the files to kexec_file_load (arm64, x86_64): the kernel
// parses the image, places the segments and builds the ELF core header.
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
		return explain(fmt.Errorf("SYS_kexec_file_load(kernel=%s, initrd=%s, flags=%#x) = %w", o.Kernel, o.Initrd, flags, err), nil, fileMeans)
	}
	return nil
}
