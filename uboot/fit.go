package uboot

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"

	"github.com/kdumpkit/kdumpkit/boards"
)

// The node names `mkimage -f auto` gives the image's parts.
const (
	fitConfig  = "conf-1"
	fitRamdisk = "ramdisk-1"
)

// FITArgs is mkimage's argv (without the program) for one FIT image
// holding the kernel, the initramfs and, with uboot.fdt = "tftp", the
// device tree: what boards whose U-Boot boots with bootm need. The
// kernel's load and entry address is uboot.kernel_addr, which the board
// file gives as a number for a FIT (validated: hex only).
func FITArgs(b *boards.Board, kernel, initrd, dtb, out string) []string {
	arch := map[string]string{"arm": "arm", "arm64": "arm64"}[b.Arch]
	a := []string{"-f", "auto", "-A", arch, "-O", "linux", "-T", "kernel", "-C", "none",
		"-a", b.UBoot.KernelAddr, "-e", b.UBoot.KernelAddr, "-n", "kdumpkit " + b.Name, "-d", kernel, "-i", initrd}
	if b.UBoot.FDT == "tftp" {
		a = append(a, "-b", dtb)
	}
	return append(a, out)
}

// MakeFIT runs mkimage (u-boot-tools) to write the FIT image to out.
func MakeFIT(ctx context.Context, b *boards.Board, kernel, initrd, dtb, out string) error {
	cmd := exec.CommandContext(ctx, "mkimage", FITArgs(b, kernel, initrd, dtb, out)...)
	var msg bytes.Buffer
	cmd.Stdout, cmd.Stderr = &msg, &msg
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("mkimage (u-boot-tools) making the FIT image %s: %w: %s", out, err, strings.Join(strings.Fields(msg.String()), " "))
	}
	return nil
}
