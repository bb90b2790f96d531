package kexec

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// kexec_load flags (include/uapi/linux/kexec.h).
const (
	flagOnCrash = 0x1
	archARM     = 40 << 16 // KEXEC_ARCH_ARM = EM_ARM << 16
)

// Options are a crash (or normal) load's inputs, kexec-tools' flags.
type Options struct {
	Kernel, Initrd, DTB string // paths; DTB "" means /sys/firmware/fdt
	Cmdline             string
	Crash               bool   // -p: boot it on panic; else -l
	Root                string // "/" on the target; a fake tree in tests
	Debug               io.Writer
}

// Load loads a kernel for kexec. ARM32 builds its own segments for
// kexec_load (there is no kexec_file_load there); arm64 and x86_64 give
// the files to kexec_file_load and the kernel builds the rest.
func Load(o Options) error {
	if runtime.GOARCH != "arm" {
		return loadFile(o)
	}
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

// kexecSegment is struct kexec_segment: four words on every arch.
type kexecSegment struct {
	buf   unsafe.Pointer
	bufsz uintptr
	mem   uintptr
	memsz uintptr
}

func kexecLoad(p *Plan, flags uint64) error {
	segs := make([]kexecSegment, len(p.Segments))
	for i, s := range p.Segments {
		segs[i] = kexecSegment{unsafe.Pointer(&s.Buf[0]), uintptr(len(s.Buf)), uintptr(s.Mem), uintptr(s.Memsz)}
	}
	_, _, errno := unix.Syscall6(unix.SYS_KEXEC_LOAD, uintptr(p.Entry), uintptr(len(segs)), uintptr(unsafe.Pointer(&segs[0])), uintptr(flags), 0, 0)
	runtime.KeepAlive(p)
	runtime.KeepAlive(segs)
	if errno != 0 {
		return fmt.Errorf("SYS_kexec_load(entry=%#x, nr=%d, flags=%#x) = %w", p.Entry, len(segs), flags, errno)
	}
	return nil
}

// Unload removes a loaded crash (or normal) kernel.
func Unload(crash bool) error {
	if runtime.GOARCH != "arm" {
		flags := unix.KEXEC_FILE_UNLOAD
		if crash {
			flags |= unix.KEXEC_FILE_ON_CRASH
		}
		if err := unix.KexecFileLoad(-1, -1, "", flags); err != nil {
			return fmt.Errorf("SYS_kexec_file_load(unload, flags=%#x) = %w", flags, err)
		}
		return nil
	}
	flags := uintptr(archARM)
	if crash {
		flags |= flagOnCrash
	}
	if _, _, errno := unix.Syscall6(unix.SYS_KEXEC_LOAD, 0, 0, 0, flags, 0, 0); errno != 0 {
		return fmt.Errorf("SYS_kexec_load(unload, flags=%#x) = %w", flags, errno)
	}
	return nil
}

// Exec reboots into the loaded (non-crash) kernel.
func Exec() error {
	return unix.Reboot(unix.LINUX_REBOOT_CMD_KEXEC)
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

// explain adds what the errno means for a crash load, in words.
func explain(err error, p *Plan) error {
	var errno unix.Errno
	if err == nil || !errors.As(err, &errno) {
		return err
	}
	switch errno {
	case unix.EINVAL:
		return fmt.Errorf("%w: on ARM this usually means more than one CPU is possible and the platform has no cpu_kill (vexpress): boot the first kernel with nr_cpus=1", err)
	case unix.EADDRNOTAVAIL:
		if p != nil {
			return fmt.Errorf("%w: a segment lies outside the crash region %v: %s", err, p.Crash, segmentList(p))
		}
		return fmt.Errorf("%w: a segment lies outside the crash kernel reservation", err)
	case unix.EBUSY:
		return fmt.Errorf("%w: a kexec load or kexec is already in progress", err)
	case unix.EPERM:
		return fmt.Errorf("%w: needs CAP_SYS_BOOT (root), and kexec_load_disabled must be 0", err)
	case unix.ENOMEM:
		return fmt.Errorf("%w: the kernel could not allocate the segments' pages: crashkernel= too small?", err)
	case unix.ENOSYS:
		return fmt.Errorf("%w: the kernel lacks CONFIG_KEXEC (kexec_load) or CONFIG_KEXEC_FILE (kexec_file_load)", err)
	}
	return err
}

func segmentList(p *Plan) string {
	s := ""
	for i, seg := range p.Segments {
		s += fmt.Sprintf("[%d %s %#x+%#x] ", i, seg.Name, seg.Mem, seg.Memsz)
	}
	return s
}

// crashkernelLine quotes what the kernel said about crashkernel= at boot.
func crashkernelLine(root string) string {
	buf := make([]byte, 1<<20)
	n, err := unix.Klogctl(unix.SYSLOG_ACTION_READ_ALL, buf)
	if err != nil || root != "/" {
		return "the kernel log was not readable"
	}
	for _, line := range splitLines(string(buf[:n])) {
		if containsAny(line, "crashkernel", "Reserving") {
			return "the kernel said: " + line
		}
	}
	return "the kernel log has no crashkernel line: the parameter is missing"
}
