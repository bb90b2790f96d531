package hostcheck

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/kdumpkit/kdumpkit/debpkg"
)

// ErrMissing means a needed host tool is absent and could not be installed.
var ErrMissing = errors.New("host tools missing")

// Need is one thing the host must have, and the Debian package that gives it.
type Need struct {
	What    string // a program on PATH, or an absolute path for a header
	Package string
}

// ForArch lists what building and booting a kernel for arch needs: the
// kernel's own build dependencies (Documentation/process/changes.rst) plus
// QEMU and the tools kdumpkit runs.
func ForArch(qemuBinary string) []Need {
	qpkg := "qemu-system-arm"
	switch {
	case strings.HasSuffix(qemuBinary, "x86_64"):
		qpkg = "qemu-system-x86"
	case strings.HasSuffix(qemuBinary, "aarch64"), strings.HasSuffix(qemuBinary, "arm"):
		qpkg = "qemu-system-arm"
	}
	needs := []Need{
		{qemuBinary, qpkg},
		{"make", "make"},
		{"gcc", "gcc"}, // host programs of the kernel build (fixdep, kconfig)
		{"bison", "bison"},
		{"flex", "flex"},
		{"bc", "bc"},
		{"perl", "perl"},
		{"xz", "xz-utils"},
		{"cpio", "cpio"},
		{"dpkg-deb", "dpkg"},
		{"/usr/include/openssl/opensslv.h", "libssl-dev"},
	}
	if strings.HasSuffix(qemuBinary, "x86_64") {
		// objtool, which only x86 builds run (6.1), links libelf.
		needs = append(needs, Need{"/usr/include/gelf.h", "libelf-dev"})
	}
	return needs
}

// ubootQEMU is Debian's U-Boot for QEMU's arm64 virt machine, the
// firmware of the shipped U-Boot board.
const ubootQEMU = "/usr/lib/u-boot/qemu_arm64/u-boot.bin"

// ForFirmware is what a board's qemu.firmware needs: Debian's u-boot-qemu
// for the U-Boot builds it ships under /usr/lib/u-boot; nothing for a
// firmware of the user's own elsewhere.
func ForFirmware(path string) []Need {
	if strings.HasPrefix(path, "/usr/lib/u-boot/") {
		return []Need{{path, "u-boot-qemu"}}
	}
	return nil
}

// ForTests lists what `go test ./...` needs beyond ForArch: the Debian
// tooling that the debpkg and kernelsrc tests drive for real, and the
// U-Boot and the pty pair the U-Boot board's tests use.
func ForTests(qemuBinary string) []Need {
	return append(append(ForArch(qemuBinary),
		Need{"apt-get", "apt"},
		Need{"dpkg-query", "dpkg"},
		Need{"socat", "socat"},          // a serial cable between two ptys, for the real-board flow's test
		Need{"mkimage", "u-boot-tools"}, // FIT images, for uboot.boot = "fit"
	), ForFirmware(ubootQEMU)...)
}

// Missing returns the needs that the host lacks; path is the PATH to search.
func Missing(needs []Need, path string) []Need {
	var out []Need
	for _, n := range needs {
		if filepath.IsAbs(n.What) {
			if _, err := os.Stat(n.What); err != nil {
				out = append(out, n)
			}
			continue
		}
		if !onPath(n.What, path) {
			out = append(out, n)
		}
	}
	return out
}

func onPath(prog, path string) bool {
	for _, dir := range filepath.SplitList(path) {
		if st, err := os.Stat(filepath.Join(dir, prog)); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return true
		}
	}
	return false
}

// Packages returns the sorted, distinct packages that supply needs.
func Packages(needs []Need) []string {
	set := map[string]bool{}
	for _, n := range needs {
		set[n.Package] = true
	}
	var out []string
	for p := range set {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// InstallCommand is the command a user runs to install pkgs.
func InstallCommand(pkgs []string) string {
	return "sudo apt-get install -y " + strings.Join(pkgs, " ")
}

// Ensure installs what is missing when it may, else fails with the exact
// command to run. Root on a system with apt-get installs; anyone else
// gets the command.
func Ensure(ctx context.Context, needs []Need, log io.Writer) error {
	miss := Missing(needs, os.Getenv("PATH"))
	if len(miss) == 0 {
		fmt.Fprintf(log, "host: all %d needed tools present\n", len(needs))
		return nil
	}
	pkgs := Packages(miss)
	var what []string
	for _, m := range miss {
		what = append(what, m.What)
	}
	fmt.Fprintf(log, "host: missing %s (packages %s)\n", strings.Join(what, ", "), strings.Join(pkgs, " "))
	if os.Geteuid() != 0 || !onPath("apt-get", os.Getenv("PATH")) {
		return fmt.Errorf("%w: %s; install them with:\n    %s", ErrMissing, strings.Join(what, ", "), InstallCommand(pkgs))
	}
	if err := AptInstall(ctx, pkgs, log); err != nil {
		return err
	}
	if still := Missing(needs, os.Getenv("PATH")); len(still) > 0 {
		return fmt.Errorf("%w after apt-get install: %v", ErrMissing, still)
	}
	return nil
}

// AptInstall installs packages as root. It refreshes the package lists
// first when an install fails, and goes on when the refresh reports a
// partly failed mirror (apt-get update exits non-zero when any one index,
// even a foreign architecture's, is mid-sync), since the install itself
// says whether what we need was found.
//
// Each name is checked and passed after "--", so none is read as an option.
func AptInstall(ctx context.Context, pkgs []string, log io.Writer) error {
	for _, p := range pkgs {
		if err := debpkg.CheckName(p); err != nil {
			return fmt.Errorf("apt-get install: %w", err)
		}
	}
	install := func() error {
		args := append([]string{"install", "-y", "-q", "--no-install-recommends", "--"}, pkgs...)
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdout, cmd.Stderr = log, log
		return cmd.Run()
	}
	fmt.Fprintf(log, "host: apt-get install %s\n", strings.Join(pkgs, " "))
	if install() == nil {
		return nil
	}
	fmt.Fprintln(log, "host: apt-get update")
	up := exec.CommandContext(ctx, "apt-get", "update", "-q")
	up.Stdout, up.Stderr = log, log
	if err := up.Run(); err != nil {
		fmt.Fprintf(log, "host: apt-get update reported %v; trying the install anyway\n", err)
	}
	if err := install(); err != nil {
		return fmt.Errorf("apt-get install %s: %w", strings.Join(pkgs, " "), err)
	}
	return nil
}
