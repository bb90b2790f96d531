package kexec

import (
	"errors"
	"fmt"
	"io"
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

// Load loads a kernel for kexec, the way the running architecture
// allows (load_linux_arm.go: segments built here for kexec_load, as ARM32
// has no kexec_file_load; load_linux_file.go: kexec_file_load, the kernel
// builds the rest).
func Load(o Options) error { return load(o) }

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
func Unload(crash bool) error { return unload(crash) }

// Exec reboots into the loaded (non-crash) kernel.
func Exec() error {
	return unix.Reboot(unix.LINUX_REBOOT_CMD_KEXEC)
}

// explain adds what the errno means for a crash load, in words.
func explain(err error, p *Plan) error {
	var errno unix.Errno
	if err == nil || !errors.As(err, &errno) {
		return err
	}
	switch errno {
	case unix.EINVAL:
		return fmt.Errorf("%w: %s", err, einvalMeans)
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
