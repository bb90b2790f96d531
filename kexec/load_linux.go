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
	archARM     = 40 << 16  // KEXEC_ARCH_ARM = EM_ARM << 16
	archAArch64 = 183 << 16 // KEXEC_ARCH_AARCH64 = EM_AARCH64 << 16
)

// Method is the system call a load uses.
type Method string

// The methods, as kexec-tools' -a, -s and -c choose them.
const (
	// MethodAuto is kexec_file_load, then kexec_load when the kernel
	// cannot (ENOSYS: no CONFIG_KEXEC_FILE; ENOEXEC or EINVAL: no image
	// loader for this kernel). It is what "" means.
	MethodAuto Method = "auto"
	// MethodFile is kexec_file_load: the kernel reads the files and
	// builds the segments, device tree and ELF core header itself.
	MethodFile Method = "file"
	// MethodLoad is kexec_load with the segments built here.
	MethodLoad Method = "load"
)

// ParseMethod checks a method's name.
func ParseMethod(s string) (Method, error) {
	switch m := Method(s); m {
	case MethodAuto, MethodFile, MethodLoad:
		return m, nil
	case "":
		return MethodAuto, nil
	}
	return "", fmt.Errorf("kexec method %q: want auto, file or load", s)
}

// Syscall is the system call's name, for messages.
func (m Method) Syscall() string {
	if m == MethodFile {
		return "kexec_file_load"
	}
	return "kexec_load"
}

// Options are a crash (or normal) load's inputs, kexec-tools' flags.
type Options struct {
	Kernel, Initrd, DTB string // paths; DTB "" means /sys/firmware/fdt
	Cmdline             string
	Crash               bool   // -p: boot it on panic; else -l
	Method              Method // "" is MethodAuto
	Root                string // "/" on the target; a fake tree in tests
	Debug               io.Writer
}

// Loaded says how a load went.
type Loaded struct {
	Method Method // the system call that loaded the kernel: MethodFile or MethodLoad
	// Fallback is why kexec_file_load was not used, when MethodAuto fell
	// back to kexec_load.
	Fallback error
}

func (l Loaded) String() string {
	if l.Fallback != nil {
		return fmt.Sprintf("loaded with %s (kexec_file_load could not: %v)", l.Method.Syscall(), l.Fallback)
	}
	return "loaded with " + l.Method.Syscall()
}

// Load loads a kernel for kexec, the way o.Method and the running
// architecture allow: load_linux_arm.go (ARM32: kexec_load only, with
// segments built here), load_linux_arm64.go (kexec_file_load, or
// kexec_load with segments, device tree, purgatory and ELF core header
// built here), load_linux_other.go (kexec_file_load only).
func Load(o Options) (Loaded, error) {
	if o.Method == "" {
		o.Method = MethodAuto
	}
	if _, err := ParseMethod(string(o.Method)); err != nil {
		return Loaded{}, err
	}
	return load(o)
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
func Unload(crash bool) error { return unload(crash) }

// Exec reboots into the loaded (non-crash) kernel.
func Exec() error {
	return unix.Reboot(unix.LINUX_REBOOT_CMD_KEXEC)
}

// unloadSegments unloads with kexec_load: no segments.
func unloadSegments(flags uintptr) error {
	if _, _, errno := unix.Syscall6(unix.SYS_KEXEC_LOAD, 0, 0, 0, flags, 0, 0); errno != 0 {
		return fmt.Errorf("SYS_kexec_load(unload, flags=%#x) = %w", flags, errno)
	}
	return nil
}

// meanings say what errnos of one system call most often mean on one
// architecture; explain falls back on the common ones.
type meanings map[unix.Errno]string

// explain adds what the errno means for a crash load, in words.
func explain(err error, p *Plan, m meanings) error {
	var errno unix.Errno
	if err == nil || !errors.As(err, &errno) {
		return err
	}
	if s, ok := m[errno]; ok {
		return fmt.Errorf("%w: %s", err, s)
	}
	switch errno {
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

// defaults fills what kexec-tools also takes for granted: the root of the
// running system and its device tree (/sys/firmware/fdt).
func (o *Options) defaults() {
	if o.Root == "" {
		o.Root = "/"
	}
	if o.DTB == "" {
		o.DTB = o.Root + "/sys/firmware/fdt"
	}
}

// readFiles reads the kernel, initrd and device tree a kexec_load plan is
// built from; a path left empty gives no bytes.
func (o *Options) readFiles() (kernel, initrd, dtb []byte, err error) {
	read := func(path string) []byte {
		if path == "" || err != nil {
			return nil
		}
		var b []byte
		b, err = os.ReadFile(path)
		return b
	}
	kernel, initrd, dtb = read(o.Kernel), read(o.Initrd), read(o.DTB)
	return kernel, initrd, dtb, err
}
