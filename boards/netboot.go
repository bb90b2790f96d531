package boards

import (
	"fmt"
	"net/netip"
	"strings"
)

// A board that boots through U-Boot instead of QEMU's -kernel. Its [uboot]
// section says how U-Boot loads the kernel, device tree and initramfs
// from kdumpkit's TFTP server; [console] where its serial console is;
// [power] how to switch it on and off; [network] how the board and the
// laptop reach each other. A board with a [qemu] section is a QEMU machine
// running U-Boot as its firmware (QEMU plays the board and its power
// switch); one without is real hardware.

// ConsoleQEMU is the console device of a QEMU board with [uboot]: the pty
// QEMU opens for -serial pty, opened by kdumpkit as a serial device.
const ConsoleQEMU = "qemu"

// Console is the board's serial console.
type Console struct {
	Device string `toml:"device"` // "/dev/ttyUSB0", or "qemu"
	Baud   int    `toml:"baud"`   // default 115200
}

// Power switches a real board. On, Off and Reset are argv of the user's
// own commands (a relay, a smart plug, a lab's PDU tool); run without a
// shell. Manual asks the user to press the button and waits.
type Power struct {
	On     []string `toml:"on"`
	Off    []string `toml:"off"`
	Reset  []string `toml:"reset"`
	Manual bool     `toml:"manual"`
}

// Network is how the board and the laptop reach each other.
type Network struct {
	// Host is the laptop's address as the board's Linux reaches it: the
	// capture kernel uploads the dump to http://Host:PORT/.
	Host string `toml:"host"`
	// TFTPHost is the laptop as U-Boot reaches it (serverip); default
	// Host.
	TFTPHost string `toml:"tftp_host"`
	// Listen is where kdumpkit's TFTP and HTTP servers listen; default
	// Host.
	Listen string `toml:"listen"`
	// TFTPPort is the TFTP server's port: 69 unless the U-Boot was built
	// with CONFIG_TFTP_PORT (kdumpkit then sets tftpdstp).
	TFTPPort int `toml:"tftp_port"`
	// BoardIP is U-Boot's address: "dhcp" or a fixed address.
	BoardIP string `toml:"board_ip"`
	Netmask string `toml:"netmask"` // with a fixed BoardIP
	Gateway string `toml:"gateway"` // with a fixed BoardIP, optional
}

// UBoot says how the board's U-Boot boots kdumpkit's kernel.
type UBoot struct {
	// Prompt is U-Boot's prompt ("=> " by default).
	Prompt string `toml:"prompt"`
	// Boot is how U-Boot boots: "booti" (arm64 Image) or "bootz" (ARM
	// zImage) with the files loaded one by one, or "fit": one FIT image
	// made with mkimage (kernel, initramfs, and the DTB with fdt = "tftp")
	// loaded at ramdisk_addr and booted with bootm, for a U-Boot that has
	// only bootm; its kernel_addr is then the kernel's load address.
	Boot string `toml:"boot"`
	// KernelAddr, RamdiskAddr and FDTAddr are where tftpboot loads each
	// file: a hex address or a U-Boot variable such as ${kernel_addr_r}.
	KernelAddr  string `toml:"kernel_addr"`
	RamdiskAddr string `toml:"ramdisk_addr"`
	FDTAddr     string `toml:"fdt_addr"`
	// FDT is "tftp" to serve the kernel tree's DTB (kernel.dtb) and load it
	// at FDTAddr, or "board" to boot with the device tree U-Boot already
	// has at FDTAddr (QEMU's, or one in the board's flash).
	FDT string `toml:"fdt"`
	// Timeout bounds each U-Boot command (a TFTP transfer is one).
	Timeout Duration `toml:"timeout"`
	// PromptTimeout bounds power-on to the first prompt.
	PromptTimeout Duration `toml:"prompt_timeout"`
}

// NetBoot reports whether the board boots through U-Boot over the network.
func (b *Board) NetBoot() bool { return b.UBoot != nil }

// RealHardware reports whether the board is not a QEMU machine.
func (b *Board) RealHardware() bool { return b.QEMU.Machine == "" }

func (b *Board) netbootDefaults() {
	u := b.UBoot
	if u == nil {
		return
	}
	set := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	set(&u.Prompt, "=> ")
	if b.Arch == "arm" {
		set(&u.Boot, "bootz")
	} else {
		set(&u.Boot, "booti")
	}
	set(&u.KernelAddr, "${kernel_addr_r}")
	set(&u.RamdiskAddr, "${ramdisk_addr_r}")
	set(&u.FDTAddr, "${fdt_addr_r}")
	if u.FDT == "" {
		u.FDT = "tftp"
		if b.Kernel.DTB == "" {
			u.FDT = "board"
		}
	}
	if u.Timeout == 0 {
		u.Timeout = Duration(120e9)
	}
	if u.PromptTimeout == 0 {
		u.PromptTimeout = Duration(60e9)
	}
	if b.Console.Baud == 0 {
		b.Console.Baud = 115200
	}
	n := &b.Network
	set(&n.TFTPHost, n.Host)
	set(&n.Listen, n.Host)
	set(&n.BoardIP, "dhcp")
	if n.TFTPPort == 0 {
		n.TFTPPort = 69
	}
}

// ubootUnsafe are characters that U-Boot's shell would read as syntax in a
// value kdumpkit types at the prompt.
const ubootUnsafe = "'\"$;\\`\n\r\x00"

func (b *Board) checkNetboot() error {
	u := b.UBoot
	if u == nil {
		switch {
		case b.QEMU.Firmware != "":
			return fieldErr("qemu.firmware", b.QEMU.Firmware, "firmware boots the kernel through U-Boot: add a [uboot] section, or leave firmware out for QEMU's -kernel")
		case b.Console.Device != "":
			return fieldErr("console.device", b.Console.Device, "a serial console is for boards that boot through U-Boot: add a [uboot] section")
		case b.RealHardware():
			return fieldErr("qemu.machine", "", "missing: a board without [qemu] boots through U-Boot and needs a [uboot] section")
		}
		return nil
	}
	switch {
	case !b.RealHardware() && !strings.HasPrefix(b.QEMU.Firmware, "/"):
		return fieldErr("qemu.firmware", b.QEMU.Firmware, "want the absolute path of the U-Boot binary QEMU runs as firmware (-bios), such as /usr/lib/u-boot/qemu_arm64/u-boot.bin")
	case b.Arch != "arm" && b.Arch != "arm64":
		return fieldErr("arch", b.Arch, "U-Boot boards are arm or arm64")
	case b.Console.Device == "":
		return fieldErr("console.device", "", "missing: the serial device U-Boot's console is on, such as /dev/ttyUSB0 (\"qemu\" for a QEMU board's -serial pty)")
	case b.Console.Device == ConsoleQEMU && b.RealHardware():
		return fieldErr("console.device", b.Console.Device, "\"qemu\" needs a [qemu] section: the console is QEMU's -serial pty")
	case b.Console.Device != ConsoleQEMU && !strings.HasPrefix(b.Console.Device, "/"):
		return fieldErr("console.device", b.Console.Device, "want the absolute path of a serial device such as /dev/ttyUSB0 or /dev/serial/by-id/…, or \"qemu\"")
	case b.Console.Baud < 50 || b.Console.Baud > 4000000:
		return fieldErr("console.baud", b.Console.Baud, "want a baud rate such as 115200")
	case u.Boot != "booti" && u.Boot != "bootz" && u.Boot != "fit":
		return fieldErr("uboot.boot", u.Boot, "want booti (arm64 Image), bootz (ARM zImage) or fit (a FIT image booted with bootm)")
	case u.Boot == "fit" && !strings.HasPrefix(u.KernelAddr, "0x"):
		return fieldErr("uboot.kernel_addr", u.KernelAddr, "a FIT image holds the kernel's load address, which mkimage needs as a number: want a hex address such as 0x40480000")
	case u.FDT != "tftp" && u.FDT != "board":
		return fieldErr("uboot.fdt", u.FDT, "want tftp (serve kernel.dtb) or board (the device tree U-Boot has at fdt_addr)")
	case u.FDT == "tftp" && b.Kernel.DTB == "":
		return fieldErr("uboot.fdt", u.FDT, "tftp serves kernel.dtb, which this board does not set: set kernel.dtb or uboot.fdt = \"board\"")
	case u.Prompt == "" || strings.ContainsAny(u.Prompt, "\n\r\x00"):
		return fieldErr("uboot.prompt", u.Prompt, "want U-Boot's prompt on one line, such as \"=> \"")
	case u.Timeout.D() > MaxTimeout || u.PromptTimeout.D() > MaxTimeout:
		return fieldErr("uboot.timeout", u.Timeout.D(), "want at most %s", MaxTimeout)
	}
	for _, f := range []struct{ name, v string }{{"uboot.kernel_addr", u.KernelAddr}, {"uboot.ramdisk_addr", u.RamdiskAddr}, {"uboot.fdt_addr", u.FDTAddr}} {
		if !ubootAddr(f.v) {
			return fieldErr(f.name, f.v, "want a hex address such as 0x40400000 or a U-Boot variable such as ${kernel_addr_r}")
		}
	}
	// Everything kdumpkit types at the prompt goes through U-Boot's shell.
	for _, f := range []struct{ name, v string }{{"kernel.cmdline", b.Kernel.Cmdline}, {"kernel.crash_cmdline", b.Kernel.CrashCmdline}} {
		if strings.ContainsAny(f.v, ubootUnsafe) {
			return fieldErr(f.name, f.v, "U-Boot's shell would read quotes, $, ;, \\ or ` in it: leave them out")
		}
	}
	if err := b.checkPower(); err != nil {
		return err
	}
	return b.checkNetwork()
}

// ubootAddr is a load address as U-Boot reads it.
func ubootAddr(s string) bool {
	if v, ok := strings.CutPrefix(s, "${"); ok {
		name, ok := strings.CutSuffix(v, "}")
		if !ok || name == "" {
			return false
		}
		for _, c := range name {
			if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
				return false
			}
		}
		return true
	}
	h, ok := strings.CutPrefix(s, "0x")
	return ok && isHex(h, len(h)) && len(h) > 0 && len(h) <= 16
}

func (b *Board) checkPower() error {
	p := b.Power
	if !b.RealHardware() {
		if len(p.On)+len(p.Off)+len(p.Reset) > 0 || p.Manual {
			return fieldErr("power", "", "a QEMU board's power switch is QEMU itself: leave [power] out")
		}
		return nil
	}
	if p.Manual == (len(p.On)+len(p.Reset) > 0) {
		return fieldErr("power", "", "want either manual = true (kdumpkit asks you to press reset) or on/reset commands (argv lists of your own power switch), not both or neither")
	}
	for _, c := range []struct {
		name string
		argv []string
	}{{"power.on", p.On}, {"power.off", p.Off}, {"power.reset", p.Reset}} {
		for i, a := range c.argv {
			if strings.ContainsRune(a, 0) {
				return fieldErr(fmt.Sprintf("%s[%d]", c.name, i), a, "contains a NUL byte")
			}
		}
		if len(c.argv) > 0 && c.argv[0] == "" {
			return fieldErr(c.name+"[0]", "", "want the program to run (its argv; no shell)")
		}
	}
	return nil
}

func (b *Board) checkNetwork() error {
	n := b.Network
	for _, f := range []struct{ name, v string }{{"network.host", n.Host}, {"network.tftp_host", n.TFTPHost}, {"network.listen", n.Listen}} {
		if a, err := netip.ParseAddr(f.v); err != nil || !a.Is4() {
			return fieldErr(f.name, f.v, "want an IPv4 address such as 192.168.1.10 (U-Boot's TFTP is IPv4)")
		}
	}
	if n.TFTPPort < 1 || n.TFTPPort > 65535 {
		return fieldErr("network.tftp_port", n.TFTPPort, "want 1-65535 (69 unless your U-Boot has CONFIG_TFTP_PORT)")
	}
	if n.BoardIP != "dhcp" {
		if a, err := netip.ParseAddr(n.BoardIP); err != nil || !a.Is4() {
			return fieldErr("network.board_ip", n.BoardIP, "want dhcp or an IPv4 address")
		}
		if a, err := netip.ParseAddr(n.Netmask); err != nil || !a.Is4() {
			return fieldErr("network.netmask", n.Netmask, "want the netmask of a fixed board_ip, such as 255.255.255.0")
		}
	}
	if n.Gateway != "" {
		if a, err := netip.ParseAddr(n.Gateway); err != nil || !a.Is4() {
			return fieldErr("network.gateway", n.Gateway, "want an IPv4 address")
		}
	}
	return nil
}
