package boards

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Sentinel errors; the messages that wrap them name the file and field.
var (
	// ErrUnknownBoard means no shipped board has the name asked for.
	ErrUnknownBoard = errors.New("unknown board")
	// ErrInvalid means a board file parsed but says something impossible.
	ErrInvalid = errors.New("invalid board file")
)

// Board is one board file.
type Board struct {
	Name        string    `toml:"name"`
	Description string    `toml:"description"`
	Arch        string    `toml:"arch"` // arm, arm64 or x86_64
	QEMU        QEMU      `toml:"qemu"`
	Kernel      Kernel    `toml:"kernel"`
	Toolchain   Toolchain `toml:"toolchain"`
	Kdump       Kdump     `toml:"kdump"`
	// U-Boot boards (netboot.go): nil UBoot means QEMU boots the kernel
	// itself with -kernel.
	UBoot   *UBoot  `toml:"uboot"`
	Console Console `toml:"console"`
	Power   Power   `toml:"power"`
	Network Network `toml:"network"`

	// Path is the file the board came from ("boards/vexpress.toml" for
	// shipped boards), for messages.
	Path string `toml:"-"`
}

// QEMU says how to emulate the board.
type QEMU struct {
	Binary  string `toml:"binary"` // default qemu-system-<arch>
	Machine string `toml:"machine"`
	CPU     string `toml:"cpu"`
	Memory  Size   `toml:"memory"`
	SMP     int    `toml:"smp"`
	// Firmware is run as the machine's firmware (-bios): a U-Boot board's
	// U-Boot. Boards without it boot the kernel directly (-kernel).
	Firmware string   `toml:"firmware"`
	Args     []string `toml:"args"` // appended as they are
}

// Kernel says which kernel to build and how to boot it.
type Kernel struct {
	Version   string   `toml:"version"` // "6.1": the series the sources must match
	Defconfig string   `toml:"defconfig"`
	Image     string   `toml:"image"` // zImage, Image or bzImage
	DTB       string   `toml:"dtb"`   // file name under arch/<arch>/boot/dts, "" for none
	Fragments []string `toml:"fragments"`
	Cmdline   string   `toml:"cmdline"`
	// CrashCmdline is the capture kernel's command line (before the
	// elfcorehdr= and mem= that kexec adds).
	CrashCmdline string   `toml:"crash_cmdline"`
	Sources      []Source `toml:"source"`
}

// Toolchain lists where a cross compiler may come from.
type Toolchain struct {
	Sources []Source `toml:"source"`
}

// Source is one place a kernel tree or toolchain may come from. Sources are
// tried in order; the first that works wins.
type Source struct {
	Kind      string `toml:"kind"`      // "tarball", "path", "debian", "tree" or "git"
	URL       string `toml:"url"`       // tarball: http(s)://, file:// or a plain path; git: what git clone takes
	SHA256    string `toml:"sha256"`    // tarball: pinned hash
	Checksums string `toml:"checksums"` // tarball: URL of a published checksum file (sha256sums.asc, .sha256)
	Package   string `toml:"package"`   // debian: the package name
	Prefix    string `toml:"prefix"`    // toolchain: CROSS_COMPILE prefix, e.g. arm-linux-gnueabihf-
	// Version pins a Debian package version ("6.1.172-1"). Without it the
	// version first built is kept until `kernel:update` moves it.
	Version string `toml:"version"`
	// Path is a kernel tree of the user's (kind tree), absolute, ~/…, or
	// relative to the board file; it is built out of tree, never written.
	Path string `toml:"path"`
	// Ref is what kind git checks out: a branch, a tag or a commit
	// (default HEAD, the remote's default branch).
	Ref string `toml:"ref"`
}

// Kdump configures the capture and the test run.
type Kdump struct {
	// Targets are the dump targets, tried in order: "9p", "disk",
	// "http://HOST:PORT/", "dir:/PATH".
	Targets []string `toml:"targets"`
	// Kexec is how the board's init loads the crash kernel: "auto"
	// (kexec_file_load, then kexec_load when the kernel cannot; the
	// default), "file" or "load".
	Kexec    string   `toml:"kexec"`
	Timeouts Timeouts `toml:"timeouts"`
}

// Timeouts bound each stage the console watcher waits for.
type Timeouts struct {
	Boot     Duration `toml:"boot"`    // power on → first kernel's init runs
	Load     Duration `toml:"load"`    // crash kernel loaded
	Panic    Duration `toml:"panic"`   // crash triggered → capture kernel banner
	Capture  Duration `toml:"capture"` // capture kernel → vmcore saved
	Poweroff Duration `toml:"poweroff"`
}

// Duration is a time.Duration written as "90s" or "2m" in TOML.
type Duration time.Duration

// UnmarshalText parses Go duration syntax.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	if v <= 0 {
		return errors.New("want a positive duration such as 90s or 2m")
	}
	*d = Duration(v)
	return nil
}

// D is the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// archs maps each supported arch to its Go and kernel names.
var archs = map[string]struct{ goarch, karch, qemu string }{
	"arm":    {"arm", "arm", "qemu-system-arm"},
	"arm64":  {"arm64", "arm64", "qemu-system-aarch64"},
	"x86_64": {"amd64", "x86_64", "qemu-system-x86_64"},
}

// GOARCH is the Go architecture of programs that run on the board.
func (b *Board) GOARCH() string { return archs[b.Arch].goarch }

// GOARM is the GOARM value for arm boards ("7": every ARM32 board we
// emulate is ARMv7), "" elsewhere.
func (b *Board) GOARM() string {
	if b.Arch == "arm" {
		return "7"
	}
	return ""
}

// KernelArch is the kernel's ARCH= for the board.
func (b *Board) KernelArch() string { return archs[b.Arch].karch }

// KernelSrcArch is the directory under arch/ in the kernel tree.
func (b *Board) KernelSrcArch() string {
	if b.Arch == "x86_64" {
		return "x86"
	}
	return b.Arch
}

// LocalPath resolves a path the board file names (a tree's path, a git
// url that is a local path): ~/ is the user's home, a relative path is
// relative to the board file's directory, as fragment paths are.
func (b *Board) LocalPath(p string) string {
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, rest)
		}
	}
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(filepath.Dir(b.Path), p)
}
