package kernel

import (
	"fmt"
	"strings"

	"github.com/kdumpkit/kdumpkit/analyze/symbols"
)

// checkMatch refuses a vmlinux that is not the kernel that wrote the dump.
// The BUILD-IDs are compared when both sides have one; otherwise, as
// crash does, linux_banner from the vmlinux file is compared with the
// dump's copy at the same address (moved by KERNELOFFSET under KASLR).
// When neither can be compared the analysis goes on under a warning,
// given to warn on every open: every answer may come from the wrong kernel.
func checkMatch(img *Image, d Dump, warn func(error)) error {
	if img.ELF == nil {
		return nil // a KallsymsImage: the symbols are the dump's own
	}
	info := d.VMCOREINFO()
	dumpID := strings.TrimSpace(info["BUILD-ID"])
	if img.BuildID != nil && dumpID != "" {
		if err := symbols.CheckBuildID(img.BuildID, dumpID); err != nil {
			return fmt.Errorf("%s and %s: %w", img.Path, d.Path(), err)
		}
		return nil
	}
	noID := "VMCOREINFO has no BUILD-ID"
	if img.BuildID == nil {
		noID = "the vmlinux has no build-id note"
	}
	dumpBanner, err := readDumpBanner(img, d)
	if err != nil {
		warn(fmt.Errorf("cannot check that %s is the kernel that wrote %s: %s, and %v; every answer may be wrong", img.Path, d.Path(), noID, err))
		return nil
	}
	if dumpBanner != img.Banner {
		return fmt.Errorf("%s and %s: %w (%s, so linux_banner was compared): vmlinux has %q, the dump has %q",
			img.Path, d.Path(), symbols.ErrBuildIDMismatch, noID, img.Banner, dumpBanner)
	}
	return nil
}

// readDumpBanner reads linux_banner from the dump's memory, as long as the
// vmlinux's copy plus its NUL, so a longer dump banner does not compare
// equal to a prefix.
func readDumpBanner(img *Image, d Dump) (string, error) {
	if img.BannerErr != nil {
		return "", fmt.Errorf("the vmlinux's linux_banner is unreadable (%v)", img.BannerErr)
	}
	addr, err := img.Syms.Addr("linux_banner")
	if err != nil {
		return "", err
	}
	off, err := kernelOffset(d.VMCOREINFO())
	if err != nil {
		return "", err
	}
	addr += off
	buf := make([]byte, len(img.Banner)+1)
	if err := d.ReadVirt(addr, buf); err != nil {
		return "", fmt.Errorf("the dump's linux_banner at %#x is unreadable (%v)", addr, err)
	}
	if i := strings.IndexByte(string(buf), 0); i >= 0 {
		buf = buf[:i]
	}
	return string(buf), nil
}
