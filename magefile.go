//go:build mage

// The kdumpkit targets. Each one wires packages together; the work is in
// the packages. Board selection comes first on the command line
// (`board:vexpress`, `board:arm64`, `board:vexpress612`, `board:arm64uboot`,
// `board:file PATH`); without it the vexpress board is used.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/magefile/mage/mg"
	"github.com/magefile/mage/sh"

	"github.com/kdumpkit/kdumpkit/boards"
	"github.com/kdumpkit/kdumpkit/downloads"
	"github.com/kdumpkit/kdumpkit/hostcheck"
	"github.com/kdumpkit/kdumpkit/kbuild"
	"github.com/kdumpkit/kdumpkit/kernelsrc"
	"github.com/kdumpkit/kdumpkit/pipeline"
	"github.com/kdumpkit/kdumpkit/protocol"
	"github.com/kdumpkit/kdumpkit/qemu"
	"github.com/kdumpkit/kdumpkit/rootfs"
	"github.com/kdumpkit/kdumpkit/toolchain"
)

// invoked is when this mage invocation started, for whole-run timings.
var invoked = time.Now()

// state carries what one target made to the targets after it in the same
// `go run mage.go …` invocation.
var state struct {
	board  *boards.Board
	tc     *toolchain.Toolchain
	tree   *kernelsrc.Tree
	kernel *kbuild.Artifacts
	initrd string // the first kernel's initramfs
	update bool   // kernel:update: move a Debian source to apt's candidate
}

func cacheDir() string {
	base := os.Getenv("XDG_CACHE_HOME")
	if base == "" {
		home, _ := os.UserHomeDir()
		base = filepath.Join(home, ".cache")
	}
	return filepath.Join(base, "kdumpkit")
}

// defaultBoard is used when no board: target comes first.
const defaultBoard = "vexpress"

// board is the selected board, the default one if none was selected.
// Shipped boards are embedded and validated by boards' tests, so loading
// the default cannot fail at run time; mg.Fatal keeps a message if it did.
func board() *boards.Board {
	if state.board == nil {
		b, err := boards.Shipped(defaultBoard)
		if err != nil {
			panic(mg.Fatal(1, err))
		}
		state.board = b
	}
	return state.board
}

func buildDir() string { return filepath.Join("build", board().Name) }

// Board selects the board for the targets that follow.
type Board mg.Namespace

// Vexpress selects boards/vexpress.toml (QEMU vexpress-a9, ARM32).
func (Board) Vexpress() error { return selectShipped("vexpress") }

// Vexpress612 selects boards/vexpress-6.12.toml (the vexpress board on Linux 6.12).
func (Board) Vexpress612() error { return selectShipped("vexpress-6.12") }

// Arm64 selects boards/arm64.toml (QEMU virt, Cortex-A57, Linux 6.12, KASLR).
func (Board) Arm64() error { return selectShipped("arm64") }

// Arm64uboot selects boards/arm64-uboot.toml (QEMU virt running U-Boot: TFTP boot, serial pty, HTTP upload).
func (Board) Arm64uboot() error { return selectShipped("arm64-uboot") }

// File selects a board file of your own: board:file PATH.
func (Board) File(path string) error {
	b, err := boards.Load(path)
	if err != nil {
		return err
	}
	state.board = b
	fmt.Printf("board: %s (%s)\n", b.Name, b.Path)
	return nil
}

func selectShipped(name string) error {
	b, err := boards.Shipped(name)
	if err != nil {
		return err
	}
	state.board = b
	fmt.Printf("board: %s (%s)\n", b.Name, b.Description)
	return nil
}

// Host checks for (and as root installs) what building and booting need.
type Host mg.Namespace

// Check finds the host tools the board needs; installs them with apt-get as root.
func (Host) Check(ctx context.Context) error {
	needs := append(hostcheck.ForArch(board().QEMU.Binary), hostcheck.ForFirmware(board().QEMU.Firmware)...)
	if u := board().UBoot; u != nil && u.Boot == "fit" {
		needs = append(needs, hostcheck.Need{What: "mkimage", Package: "u-boot-tools"})
	}
	return hostcheck.Ensure(ctx, needs, os.Stdout)
}

// checkTestHost is host:check plus what the tests themselves drive.
func checkTestHost(ctx context.Context) error {
	return hostcheck.Ensure(ctx, hostcheck.ForTests(board().QEMU.Binary), os.Stdout)
}

// Toolchain resolves cross compilers.
type Toolchain mg.Namespace

// Resolve finds the board's cross toolchain (first working source wins).
func (Toolchain) Resolve(ctx context.Context) error {
	mg.CtxDeps(ctx, Host.Check)
	tc, err := toolchain.Resolve(ctx, board(), cacheDir(), os.Stdout)
	state.tc = tc
	return err
}

// Kernel fetches and builds the board's kernel.
type Kernel mg.Namespace

// Source unpacks the board's kernel source (first working source wins; a Debian one keeps the version built before).
func (Kernel) Source(ctx context.Context) error {
	mg.CtxDeps(ctx, Host.Check)
	resolve := kernelsrc.Resolve
	if state.update {
		resolve = kernelsrc.Update
	}
	tree, err := resolve(ctx, board(), cacheDir(), os.Stdout)
	state.tree = tree
	return err
}

// Update moves an unpinned Debian kernel source to apt's candidate version (kernel:update kernel:build builds it).
func (Kernel) Update(ctx context.Context) error {
	state.update = true
	mg.CtxDeps(ctx, Kernel.Source)
	return nil
}

func kernelBuild() *kbuild.Build {
	b := &kbuild.Build{Board: board(), Tree: state.tree, Toolchain: state.tc, CacheDir: cacheDir(),
		OutDir: buildDir(), Log: os.Stdout}
	if downloads.IsTerminal(os.Stderr) {
		b.Bar = os.Stderr // else a progress line every 30 s in the log
	}
	if mg.Verbose() {
		b.MakeLog = os.Stdout
	}
	return b
}

// Config makes build/<board>/config: defconfig + fragments, olddefconfig, every fragment symbol verified.
func (Kernel) Config(ctx context.Context) error {
	mg.CtxDeps(ctx, Toolchain.Resolve, Kernel.Source)
	cfg, err := kernelBuild().Configure(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("kernel: config %s\n", cfg)
	return nil
}

// Build configures (defconfig + fragments, verified) and builds image, dtb and vmlinux into build/<board>/.
func (Kernel) Build(ctx context.Context) error {
	mg.CtxDeps(ctx, Toolchain.Resolve, Kernel.Source)
	a, err := kernelBuild().Run(ctx)
	if err != nil {
		return err
	}
	state.kernel = a
	built := []string{a.Image, a.Vmlinux}
	if a.DTB != "" {
		built = append(built, a.DTB)
	}
	fmt.Printf("kernel: %s (%s)\n", strings.Join(built, ", "), a.Duration.Round(1e6))
	return nil
}

// The later stages below are namespaces whose targets depend on the ones
// above through mg.CtxDeps and read what they left in state.

// Rootfs builds the board's u-root initramfs images.
type Rootfs mg.Namespace

// Build makes the capture initramfs and the main one (kexec, capture, init, shell, the crash kernel) for the board's GOARCH.
func (Rootfs) Build(ctx context.Context) error {
	mg.CtxDeps(ctx, Kernel.Build)
	initrd, err := rootfs.ForBoard(ctx, board(), state.kernel.Image, filepath.Join(cacheDir(), "rootfs", board().Name), os.Stdout)
	state.initrd = initrd
	return err
}

// QEMU boots the board interactively.
type QEMU mg.Namespace

// Run boots the board to a u-root shell with the crash kernel loaded (Ctrl-A X quits); a U-Boot board to its U-Boot prompt.
func (QEMU) Run(ctx context.Context) error {
	mg.CtxDeps(ctx, Rootfs.Build)
	return bootRun(false).Interactive(ctx)
}

// Gdb starts QEMU halted with a gdb server on :1234 and prints the gdb command to attach.
func (QEMU) Gdb(ctx context.Context) error {
	mg.CtxDeps(ctx, Rootfs.Build)
	fmt.Printf("qemu: waiting for gdb; in another terminal:\n    %s\n", qemu.GDBCommand(state.kernel.Vmlinux))
	return bootRun(true).Interactive(ctx)
}

func bootRun(gdb bool) *qemu.Run {
	return &qemu.Run{Board: board(), Kernel: state.kernel.Image, DTB: state.kernel.DTB, Initrd: state.initrd, GDB: gdb}
}

// Kdump runs kdump end to end on the board: QEMU, or U-Boot over TFTP and a serial console.
type Kdump mg.Namespace

// Test crashes the board with sysrq c, captures the vmcore (kdump-compressed, level 31) and checks the analyzer against the console.
func (Kdump) Test(ctx context.Context) error { return kdumpRun(ctx, "sysrq", "") }

// Crash does what kdump:test does with an LKDTM crash type: EXCEPTION, BUG, PANIC, WARNING, SOFTLOCKUP…
func (Kdump) Crash(ctx context.Context, kind string) error { return kdumpRun(ctx, kind, "") }

// Kexec does what kdump:test does with the crash kernel loaded by METHOD: auto, file (kexec_file_load) or load (kexec_load).
func (Kdump) Kexec(ctx context.Context, method string) error {
	switch method {
	case protocol.KexecAuto, protocol.KexecFile, protocol.KexecLoad:
		return kdumpRun(ctx, "sysrq", method)
	}
	return fmt.Errorf("kdump:kexec %q: want auto, file or load", method)
}

// Format does what kdump:test does with the vmcore in FORMAT: elf (all of /proc/vmcore), kdump (level 31) or kdump:LEVEL.
func (Kdump) Format(ctx context.Context, format string) error {
	if _, _, err := protocol.ParseFormat(format); err != nil {
		return fmt.Errorf("kdump:format %q: %w", format, err)
	}
	return kdumpRunFormat(ctx, "sysrq", "", format)
}

// kdumpRun runs the test with the vmcore kdump-compressed at dump level
// 31 (zstd), which TestKdumpCompressedEndToEnd shows agrees with the
// console as the ELF copy does; kexec, when not empty, overrides the
// board's kexec method.
func kdumpRun(ctx context.Context, crash, kexec string) error {
	return kdumpRunFormat(ctx, crash, kexec, protocol.FormatKdump)
}

func kdumpRunFormat(ctx context.Context, crash, kexec, format string) error {
	mg.CtxDeps(ctx, Rootfs.Build)
	analyzer := filepath.Join(cacheDir(), "bin", "kdumpkit")
	if err := sh.Run("go", "build", "-o", analyzer, "./cmd/kdumpkit"); err != nil {
		return err
	}
	k := &pipeline.Kdump{Board: board(), Kernel: state.kernel.Image, DTB: state.kernel.DTB, Vmlinux: state.kernel.Vmlinux,
		Initrd: state.initrd, Analyzer: analyzer, Crash: crash, Kexec: kexec, Format: format, DumpsDir: filepath.Join(buildDir(), "dumps"), KernelSource: state.tree.Source, Verbose: mg.Verbose(), Log: os.Stdout}
	res, err := k.Run(ctx)
	if err != nil {
		return err
	}
	if state.kernel.FromScratch {
		// A cold run: keep its wall time for the bench target.
		pipeline.RecordCold(cacheDir(), board().Name, time.Since(invoked))
	}
	fmt.Printf("kdump: PASS: the analyzer agrees with the console on %d facts (%s); dump in %s\n", res.Agreed, res.Duration.Round(1e8), res.Dir)
	if len(res.KASLR) == 2 && (res.KASLR[0] != 0 || res.KASLR[1] != 0) {
		fmt.Printf("kdump: KASLR offsets: first kernel %#x, capture kernel %#x\n", res.KASLR[0], res.KASLR[1])
	}
	return sh.RunV(analyzer, "analyze", "-c", "sys; bt; log | tail -n 12", state.kernel.Vmlinux, filepath.Join(res.Dir, "vmcore"))
}

// Analyze opens the analyzer on a dump.
type Analyze mg.Namespace

// Shell opens the analyzer prompt on the newest dump of the board.
func (Analyze) Shell(ctx context.Context) error {
	mg.CtxDeps(ctx, Kernel.Build)
	dumps, _ := filepath.Glob(filepath.Join(buildDir(), "dumps", "*", "vmcore"))
	if len(dumps) == 0 {
		return fmt.Errorf("no dumps in %s: run kdump:test first", filepath.Join(buildDir(), "dumps"))
	}
	return sh.RunV("go", "run", "./cmd/kdumpkit", "analyze", state.kernel.Vmlinux, dumps[len(dumps)-1])
}

// Test runs every test, the slow real-kernel and real-QEMU ones included (their builds are cached in ~/.cache/kdumpkit).
func Test(ctx context.Context) error {
	mg.CtxDeps(ctx, checkTestHost, Toolchain.Resolve, Kernel.Source)
	return sh.RunV("go", "test", "-count=1", "-timeout", "80m", "./...")
}

// Bench runs the benchmarks, each printing its number beside the peer it is compared to.
func Bench(ctx context.Context) error {
	return sh.RunV("go", "test", "-run", "^$", "-bench", ".", "-benchtime", "1x", "./...")
}
