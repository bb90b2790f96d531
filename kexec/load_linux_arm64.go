//go:build linux && arm64

package kexec

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// arm64Means are kexec_load's errnos on arm64 (6.12) beyond the common
// ones, in the order the kernel checks.
var arm64Means = meanings{
	unix.EINVAL: "arm64's kexec_load refused the request (kernel/kexec.c, kernel/kexec_core.c): flags naming another architecture (a 32-bit kexec on a 64-bit kernel), more than 16 segments, overlapping segments, a buffer longer than its segment, or segments together over half of RAM; kexec -d prints the segments",
	unix.EBUSY:  "another kexec load, or a kexec reboot, holds the kernel's kexec lock: try again once it is done",
	unix.ENOMEM: "the kernel could not allocate its kimage, or found no free page in the crash region for its control page and its copy of VMCOREINFO (kdumpkit's plan leaves two): crashkernel= too small, or the kernel short of memory",
}

// load uses kexec_file_load, kexec_load or the first, then the second, as
// o.Method says.
func load(o Options) (Loaded, error) { return loadWith(o, loadFile, loadARM64) }

// loadARM64 builds the segments (Image, initrd, device tree, purgatory,
// ELF core header) and calls kexec_load.
func loadARM64(o Options) error {
	if !o.Crash {
		return errors.New("arm64 kexec_load without -p is not supported: only crash kernels (kexec_file_load loads the others)")
	}
	o.defaults()
	sys, err := ReadARM64System(o.Root)
	if errors.Is(err, ErrNoCrashRegion) {
		return fmt.Errorf("%w: boot with crashkernel=SIZE; %s", err, crashkernelLine(o.Root))
	}
	if err != nil {
		return err
	}
	in := ARM64Inputs{Cmdline: o.Cmdline}
	if in.Kernel, in.Initrd, in.DTB, err = o.readFiles(); err != nil {
		return err
	}
	p, err := PlanARM64(sys, in)
	if err != nil {
		return err
	}
	flags := uint64(flagOnCrash | archAArch64)
	if o.Debug != nil {
		p.WriteDebug(o.Debug, flags)
	}
	return explain(kexecLoad(p, flags), p, arm64Means)
}

// unload unloads with kexec_file_load, which frees whichever image is
// loaded, or with kexec_load on a kernel without KEXEC_FILE.
func unload(crash bool) error {
	err := unloadFile(crash)
	if !errors.Is(err, unix.ENOSYS) {
		return err
	}
	flags := uintptr(archAArch64)
	if crash {
		flags |= flagOnCrash
	}
	return unloadSegments(flags)
}
