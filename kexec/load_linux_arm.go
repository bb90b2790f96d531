//go:build linux && arm

package kexec

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// einvalMeans is what EINVAL from kexec_load most often means here: ARM32
// machine_kexec_prepare() refuses when more than one CPU is possible and
// the platform has no cpu_kill (vexpress, 6.1).
const einvalMeans = "on ARM this usually means more than one CPU is possible and the platform has no cpu_kill (vexpress): boot the first kernel with nr_cpus=1"

// armMeans are kexec_load's errnos on ARM32 beyond the common ones.
var armMeans = meanings{unix.EINVAL: einvalMeans}

// load builds the segments (kernel, initrd, DTB, ELF core header) and
// calls kexec_load: ARM32 has no kexec_file_load.
func load(o Options) (Loaded, error) {
	if o.Method == MethodFile {
		return Loaded{}, errors.New("kexec_file_load does not exist on ARM32 (arch/arm has no KEXEC_FILE): load with kexec_load (method auto or load)")
	}
	return Loaded{Method: MethodLoad}, loadARM(o)
}

func loadARM(o Options) error {
	o.defaults()
	sys, err := ReadSystem(o.Root)
	if errors.Is(err, ErrNoCrashRegion) {
		return fmt.Errorf("%w: boot with crashkernel=SIZE; %s", err, crashkernelLine(o.Root))
	}
	if err != nil {
		return err
	}
	in := ARMInputs{Cmdline: o.Cmdline}
	if in.Kernel, in.Initrd, in.DTB, err = o.readFiles(); err != nil {
		return err
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
	return explain(kexecLoad(p, flags), p, armMeans)
}

func unload(crash bool) error {
	flags := uintptr(archARM)
	if crash {
		flags |= flagOnCrash
	}
	return unloadSegments(flags)
}
