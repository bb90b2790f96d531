package boards

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/kdumpkit/kdumpkit/debpkg"
	"github.com/kdumpkit/kdumpkit/protocol"
)

// FieldError is a board value that is refused; Parse adds the file and
// the line that sets Field.
type FieldError struct {
	Field string // dotted, with an index for arrays: kernel.source[1].package
	Err   error
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }

func (e *FieldError) Unwrap() error { return e.Err }

// fieldErr refuses field's value v with a reason that says what is wanted.
func fieldErr(field string, v any, format string, args ...any) error {
	return &FieldError{Field: field, Err: fmt.Errorf("%q: %s: %w", fmt.Sprint(v), fmt.Sprintf(format, args...), ErrInvalid)}
}

// Limits on what a board may ask for. They are far above every shipped
// board and below what would break something later: QEMU TCG runs one host
// thread per vCPU, and the vmcore of guest RAM is written to the host's disk
// and read back by the analyzer, so a 64 GiB guest is already beyond a laptop.
const (
	MinMemory  = Size(16 << 20) // a kernel, its initramfs and a crashkernel= region need more
	MaxMemory  = Size(64 << 30)
	MaxSMP     = 64
	MaxTimeout = 6 * time.Hour // a capture of MaxMemory over 9p at ~10 MB/s takes under 2 h
)

var (
	// boardName becomes a directory under build/ and the cache.
	boardName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)
	// makeFile is a make target named by the board (defconfig, image): a
	// plain file name, so make can read it neither as an option (-…), a
	// variable assignment (…=…) nor a function call ($(…)).
	makeFile = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.+-]*$`)
	// dtbFile may have one vendor directory, as arm64's dtbs do.
	dtbFile = regexp.MustCompile(`^([A-Za-z0-9_][A-Za-z0-9_.+-]*/)?[A-Za-z0-9_][A-Za-z0-9_.+-]*\.dtb$`)
	// kernelVersion is a series ("6.1") or a release ("6.1.192").
	kernelVersion = regexp.MustCompile(`^[0-9]{1,3}\.[0-9]{1,3}(\.[0-9]{1,4})?$`)
	// crossPrefix is CROSS_COMPILE: a GNU triple and a dash, found on PATH.
	crossPrefix = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.+-]*-$`)
	// fragmentName is a shipped fragment (boards/fragments/NAME.config).
	fragmentName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)
)

func (b *Board) validate() error {
	if err := b.checkRequired(); err != nil {
		return err
	}
	for _, check := range []func() error{b.checkIdentity, b.checkQEMU, b.checkKernel, b.checkSources, b.checkKdump, b.checkNetboot} {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

func (b *Board) checkRequired() error {
	var missing []string
	for _, f := range []struct{ name, v string }{
		{"name", b.Name}, {"arch", b.Arch}, {"kernel.version", b.Kernel.Version},
		{"kernel.defconfig", b.Kernel.Defconfig}, {"kernel.image", b.Kernel.Image},
	} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	// Real hardware (a U-Boot board without [qemu]) has no QEMU fields.
	if !b.NetBoot() || !b.RealHardware() {
		if b.QEMU.Machine == "" {
			missing = append(missing, "qemu.machine")
		}
		if b.QEMU.Memory == 0 {
			missing = append(missing, "qemu.memory")
		}
	}
	if len(b.Kernel.Sources) == 0 {
		missing = append(missing, "[[kernel.source]]")
	}
	if len(b.Toolchain.Sources) == 0 {
		missing = append(missing, "[[toolchain.source]]")
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing required field(s) %s: %w", strings.Join(missing, ", "), ErrInvalid)
	}
	return nil
}

func (b *Board) checkIdentity() error {
	if !boardName.MatchString(b.Name) {
		return fieldErr("name", b.Name, "want lower-case letters, digits, '.', '_' and '-', starting with a letter or digit (it names build/NAME)")
	}
	if _, ok := archs[b.Arch]; !ok {
		return fieldErr("arch", b.Arch, "want one of %s", strings.Join(archNames(), ", "))
	}
	return nil
}

// checkQEMU bounds what reaches QEMU's argv. The strings are the user's
// QEMU arguments by design; only a NUL, which no argv can carry, is refused.
func (b *Board) checkQEMU() error {
	q := b.QEMU
	if b.NetBoot() && b.RealHardware() {
		return nil
	}
	if q.Memory < MinMemory || q.Memory > MaxMemory {
		return fieldErr("qemu.memory", q.Memory, "want between %s and %s", MinMemory, MaxMemory)
	}
	if q.SMP < 1 || q.SMP > MaxSMP {
		return fieldErr("qemu.smp", q.SMP, "want 1 to %d", MaxSMP)
	}
	for _, f := range []struct{ name, v string }{{"qemu.binary", q.Binary}, {"qemu.machine", q.Machine}, {"qemu.cpu", q.CPU}} {
		if strings.ContainsRune(f.v, 0) {
			return fieldErr(f.name, f.v, "contains a NUL byte")
		}
	}
	for i, a := range q.Args {
		if strings.ContainsRune(a, 0) {
			return fieldErr(fmt.Sprintf("qemu.args[%d]", i), a, "contains a NUL byte")
		}
	}
	return nil
}

func (b *Board) checkKernel() error {
	k := b.Kernel
	if !kernelVersion.MatchString(k.Version) {
		return fieldErr("kernel.version", k.Version, "want a series such as 6.1 or a release such as 6.1.192")
	}
	if !makeFile.MatchString(k.Defconfig) {
		return fieldErr("kernel.defconfig", k.Defconfig, "want a file name under arch/ARCH/configs, such as vexpress_defconfig")
	}
	if !makeFile.MatchString(k.Image) {
		return fieldErr("kernel.image", k.Image, "want a file name under arch/ARCH/boot, such as zImage, Image or bzImage")
	}
	if k.DTB != "" && (!dtbFile.MatchString(k.DTB) || strings.Contains(k.DTB, "..")) {
		return fieldErr("kernel.dtb", k.DTB, "want NAME.dtb or VENDOR/NAME.dtb")
	}
	for i, f := range k.Fragments {
		if err := checkFragmentName(f); err != nil {
			return &FieldError{Field: fmt.Sprintf("kernel.fragments[%d]", i), Err: err}
		}
	}
	for _, f := range []struct{ name, v string }{{"kernel.cmdline", k.Cmdline}, {"kernel.crash_cmdline", k.CrashCmdline}} {
		if strings.ContainsAny(f.v, "\x00\n") {
			return fieldErr(f.name, f.v, "want one line")
		}
	}
	return nil
}

// checkFragmentName accepts a shipped fragment's name or a .config file
// inside the board file's directory tree; Fragments checks again after
// following symbolic links.
func checkFragmentName(f string) error {
	if fragmentName.MatchString(f) && !strings.HasSuffix(f, ".config") {
		return nil
	}
	if !strings.HasSuffix(f, ".config") || !filepath.IsLocal(f) || strings.ContainsRune(f, 0) {
		return fmt.Errorf("%q: want a shipped fragment (%s) or a NAME.config path inside the board file's directory: %w",
			f, strings.Join(FragmentNames(), ", "), ErrInvalid)
	}
	return nil
}

func (b *Board) checkSources() error {
	for i, s := range b.Kernel.Sources {
		if err := s.validate(fmt.Sprintf("kernel.source[%d]", i), false); err != nil {
			return err
		}
	}
	for i, s := range b.Toolchain.Sources {
		if err := s.validate(fmt.Sprintf("toolchain.source[%d]", i), true); err != nil {
			return err
		}
	}
	return nil
}

func (s Source) validate(field string, toolchain bool) error {
	switch s.Kind {
	case "tarball":
		if s.URL == "" {
			return fieldErr(field+".url", "", "kind tarball needs url")
		}
		for _, f := range []struct{ name, v string }{{"url", s.URL}, {"checksums", s.Checksums}} {
			if strings.ContainsFunc(f.v, isControl) {
				return fieldErr(field+"."+f.name, f.v, "contains a control character (it is printed in logs)")
			}
		}
		if s.SHA256 == "" && s.Checksums == "" {
			return fieldErr(field+".url", s.URL, "a tarball needs sha256 or checksums, since downloads are always verified")
		}
		if s.SHA256 != "" && !isHex(s.SHA256, 64) {
			return fieldErr(field+".sha256", s.SHA256, "want 64 hex digits")
		}
	case "path":
		if !toolchain {
			return fieldErr(field+".kind", s.Kind, "kind path is for toolchains only")
		}
		if s.Prefix == "" {
			return fieldErr(field+".prefix", "", "kind path needs prefix (like arm-linux-gnueabihf-)")
		}
	case "debian":
		if err := debpkg.CheckName(s.Package); err != nil {
			return &FieldError{Field: field + ".package", Err: fmt.Errorf("%w: %w", err, ErrInvalid)}
		}
		if s.Version != "" {
			if toolchain {
				return fieldErr(field+".version", s.Version, "a toolchain package is used as installed; version pins a kernel source only")
			}
			if err := debpkg.CheckVersion(s.Version); err != nil {
				return &FieldError{Field: field + ".version", Err: fmt.Errorf("%w: %w", err, ErrInvalid)}
			}
		}
	case "tree":
		if toolchain {
			return fieldErr(field+".kind", s.Kind, "kind tree is for kernel sources only")
		}
		if s.Path == "" {
			return fieldErr(field+".path", "", "kind tree needs path (your kernel checkout)")
		}
		if strings.ContainsFunc(s.Path, isControl) {
			return fieldErr(field+".path", s.Path, "contains a control character (it is printed in logs)")
		}
	case "git":
		if toolchain {
			return fieldErr(field+".kind", s.Kind, "kind git is for kernel sources only")
		}
		if err := checkGitURL(s.URL); err != nil {
			return &FieldError{Field: field + ".url", Err: err}
		}
		if s.Ref != "" && !validGitRef(s.Ref) {
			return fieldErr(field+".ref", s.Ref, "want a branch, tag or commit name (no leading '-', '..', spaces, control characters or ~^:?*[\\)")
		}
	default:
		if toolchain {
			return fieldErr(field+".kind", s.Kind, "want tarball, path or debian")
		}
		return fieldErr(field+".kind", s.Kind, "want tarball, debian, tree or git")
	}
	// A key of another kind is refused rather than ignored: a pinned
	// version or ref that silently does nothing is worse than an error.
	for _, f := range []struct{ name, v, kind string }{
		{"version", s.Version, "debian"}, {"package", s.Package, "debian"}, {"path", s.Path, "tree"}, {"ref", s.Ref, "git"},
	} {
		if f.v != "" && s.Kind != f.kind {
			return fieldErr(field+"."+f.name, f.v, "only kind %s takes %s", f.kind, f.name)
		}
	}
	if s.Kind != "tarball" && s.Kind != "git" && s.URL != "" {
		return fieldErr(field+".url", s.URL, "only kinds tarball and git take url")
	}
	if s.Prefix != "" && !crossPrefix.MatchString(s.Prefix) {
		return fieldErr(field+".prefix", s.Prefix, "want a compiler prefix on PATH such as arm-linux-gnueabihf- (no directory)")
	}
	return nil
}

func (b *Board) checkKdump() error {
	for i, t := range b.Kdump.Targets {
		if !validTarget(t) {
			return fieldErr(fmt.Sprintf("kdump.targets[%d]", i), t, "want 9p, disk, dir:/PATH or http://HOST:PORT/ (no spaces or commas: the list goes on the kernel command line)")
		}
	}
	switch k := b.Kdump.Kexec; {
	case k != protocol.KexecAuto && k != protocol.KexecFile && k != protocol.KexecLoad:
		return fieldErr("kdump.kexec", k, "want auto, file or load")
	case k == protocol.KexecFile && b.Arch == "arm":
		return fieldErr("kdump.kexec", k, "ARM32 has no kexec_file_load: want auto or load")
	case k == protocol.KexecLoad && b.Arch == "x86_64":
		return fieldErr("kdump.kexec", k, "kdumpkit builds kexec_load's segments for arm and arm64 only: want auto or file")
	}
	t := b.Kdump.Timeouts
	for _, d := range []struct {
		name string
		v    Duration
	}{{"boot", t.Boot}, {"load", t.Load}, {"panic", t.Panic}, {"capture", t.Capture}, {"poweroff", t.Poweroff}} {
		if d.v.D() <= 0 || d.v.D() > MaxTimeout {
			return fieldErr("kdump.timeouts."+d.name, d.v.D(), "want a positive duration of at most %s", MaxTimeout)
		}
	}
	return nil
}

// validTarget is one entry of kdumpkit.targets=, read on the board by
// protocol.ParseSpecs; the list is a comma-separated kernel parameter, so
// an entry may hold neither a comma nor anything that ends the parameter.
func validTarget(t string) bool {
	if strings.ContainsAny(t, ", \t\n\"\x00") {
		return false
	}
	_, err := protocol.ParseSpecs(t)
	return err == nil
}

// gitURL is what git clone may take: a URL with a scheme git speaks, an
// scp-like user@host:path, or a local path. A leading '-' would be read
// as an option even after the URL's place in argv is fixed, so it is
// refused outright.
var gitURL = regexp.MustCompile(`^((https?|git|ssh|file)://|[A-Za-z0-9_.-]+@[A-Za-z0-9_.-]+:|[/.~A-Za-z0-9_])`)

func checkGitURL(u string) error {
	switch {
	case u == "":
		return fmt.Errorf("%q: kind git needs url (a repository: https://…, file://…, user@host:path or a local path): %w", u, ErrInvalid)
	case strings.ContainsFunc(u, isControl) || strings.HasPrefix(u, "-") || !gitURL.MatchString(u):
		return fmt.Errorf("%q: want https://…, git://…, ssh://…, file://…, user@host:path or a local path: %w", u, ErrInvalid)
	case strings.HasPrefix(u, "ext::") || strings.Contains(u, "::"):
		return fmt.Errorf("%q: git's remote helpers (…::) run commands; want a plain URL or path: %w", u, ErrInvalid)
	}
	return nil
}

// validGitRef accepts names git check-ref-format would take as a branch or
// tag, and commit ids: nothing git could read as an option, a range or a
// revision expression.
func validGitRef(r string) bool {
	if r == "" || r[0] == '-' || r[0] == '/' || strings.HasSuffix(r, "/") || strings.HasSuffix(r, ".") ||
		strings.HasSuffix(r, ".lock") || strings.Contains(r, "..") || strings.Contains(r, "@{") || strings.Contains(r, "//") {
		return false
	}
	return !strings.ContainsFunc(r, func(c rune) bool {
		return isControl(c) || c == ' ' || strings.ContainsRune("~^:?*[\\", c)
	})
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return false
		}
	}
	return true
}

// errorsAsField finds the FieldError in err's chain.
func errorsAsField(err error) (*FieldError, bool) {
	var fe *FieldError
	ok := errors.As(err, &fe)
	return fe, ok
}
