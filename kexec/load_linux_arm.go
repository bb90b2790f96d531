//go:build linux && arm

package kexec

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// einvalMeans is what EINVAL from kexec_load most often means here: ARM32
// machine_kexec_prepare() refuses when more than one CPU is possible and
// the platform has no cpu_kill (vexpress, 6.1).
const einvalMeans = "on ARM this usually means more than one CPU is possible and the platform has no cpu_kill (vexpress): boot the first kernel with nr_cpus=1"

// load builds the segments (kernel, initrd, DTB, ELF core header) and
// calls kexec_load: ARM32 has no kexec_file_load.
func load(o Options) error {
	if o.Root == "" {
		o.Root = "/"
	}
	if o.DTB == "" {
		o.DTB = o.Root + "/sys/firmware/fdt"
	}
	sys, err := ReadSystem(o.Root)
	if errors.Is(err, ErrNoCrashRegion) {
		return fmt.Errorf("%w: boot with crashkernel=SIZE; %s", err, crashkernelLine(o.Root))
	}
	if err != nil {
		return err
	}
	in := ARMInputs{Cmdline: o.Cmdline}
	for _, f := range []struct {
		path string
		dst  *[]byte
	}{{o.Kernel, &in.Kernel}, {o.Initrd, &in.Initrd}, {o.DTB, &in.DTB}} {
		if f.path == "" {
			continue
		}
		if *f.dst, err = os.ReadFile(f.path); err != nil {
			return err
		}
	}
	if !o.Crash {
		return errors.New("ARM32 loads without -p are not supported yet: only crash kernels")
	}
	p, err := PlanARM(sys, in)
	if err != nil {
		return err
	}
	flags := uint64(flagOnCrash | archARM)
	if o.Debug != nil {
		p.WriteDebug(o.Debug, flags)
	}
	return explain(kexecLoad(p, flags), p)
}

func unload(crash bool) error {
	flags := uintptr(archARM)
	if crash {
		flags |= flagOnCrash
	}
	if _, _, errno := unix.Syscall6(unix.SYS_KEXEC_LOAD, 0, 0, 0, flags, 0, 0); errno != 0 {
		return fmt.Errorf("SYS_kexec_load(unload, flags=%#x) = %w", flags, errno)
	}
	return nil
}
