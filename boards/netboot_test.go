package boards

import (
	"path/filepath"
	"strings"
	"testing"
)

// realBoard is a minimal U-Boot board without QEMU.
const realBoard = `name = "r"
arch = "arm64"
[kernel]
version = "6.1"
defconfig = "defconfig"
image = "Image"
dtb = "vendor/board.dtb"
cmdline = "console=ttyS0 crashkernel=256M"
[[kernel.source]]
kind = "debian"
package = "linux-source-6.1"
[[toolchain.source]]
kind = "path"
prefix = "aarch64-linux-gnu-"
[uboot]
[console]
device = "/dev/ttyUSB0"
[power]
manual = true
[network]
host = "192.168.1.10"
`

func TestRealBoardDefaults(t *testing.T) {
	b, err := Parse("r.toml", []byte(realBoard))
	if err != nil {
		t.Fatal(err)
	}
	u := b.UBoot
	if !b.NetBoot() || !b.RealHardware() || u.Prompt != "=> " || u.Boot != "booti" || u.FDT != "tftp" ||
		u.KernelAddr != "${kernel_addr_r}" || b.Console.Baud != 115200 || b.Network.Listen != "192.168.1.10" ||
		b.Network.TFTPHost != "192.168.1.10" || b.Network.TFTPPort != 69 || b.Network.BoardIP != "dhcp" {
		t.Errorf("defaults: %+v %+v %+v", *u, b.Console, b.Network)
	}
}

func TestNetbootValidation(t *testing.T) {
	for _, tc := range []struct{ name, text, want string }{
		{"no uboot, no qemu", strings.Replace(realBoard, "[uboot]\n", "", 1), "missing required field(s) qemu.machine, qemu.memory"},
		{"console not a device", strings.Replace(realBoard, `"/dev/ttyUSB0"`, `"ttyUSB0"`, 1), `console.device: "ttyUSB0": want the absolute path of a serial device`},
		{"qemu console on hardware", strings.Replace(realBoard, `"/dev/ttyUSB0"`, `"qemu"`, 1), "needs a [qemu] section"},
		{"no power", strings.Replace(realBoard, "manual = true\n", "", 1), "want either manual = true"},
		{"both powers", strings.Replace(realBoard, "manual = true\n", "manual = true\nreset = [\"relay\", \"1\"]\n", 1), "not both or neither"},
		{"no host", strings.Replace(realBoard, "host = \"192.168.1.10\"\n", "", 1), `network.host: "": want an IPv4 address`},
		{"ipv6 host", strings.Replace(realBoard, `"192.168.1.10"`, `"fe80::1"`, 1), "U-Boot's TFTP is IPv4"},
		{"fixed ip without netmask", strings.Replace(realBoard, "[network]\n", "[network]\nboard_ip = \"192.168.1.50\"\n", 1), "network.netmask"},
		{"shell in an address", strings.Replace(realBoard, "[uboot]\n", "[uboot]\nkernel_addr = \"0x1; reset\"\n", 1), `uboot.kernel_addr: "0x1; reset"`},
		{"shell in cmdline", strings.Replace(realBoard, "crashkernel=256M", "crashkernel=256M; reset", 1), "kernel.cmdline"},
		{"quote in cmdline", strings.Replace(realBoard, "crashkernel=256M", "crashkernel=256M'", 1), "U-Boot's shell would read"},
		{"bootm", strings.Replace(realBoard, "[uboot]\n", "[uboot]\nboot = \"bootm\"\n", 1), "want booti"},
		{"fit with a variable load address", strings.Replace(realBoard, "[uboot]\n", "[uboot]\nboot = \"fit\"\n", 1), "uboot.kernel_addr: \"${kernel_addr_r}\": a FIT image holds"},
		{"tftp fdt without dtb", strings.Replace(realBoard, "dtb = \"vendor/board.dtb\"\n", "", 1) + "", ""},
		{"firmware without uboot", strings.Replace(strings.Replace(minimal, "[qemu]\n", "[qemu]\nfirmware = \"/x\"\n", 1), `name = "t"`, `name = "r"`, 1), "qemu.firmware: \"/x\": firmware boots the kernel through U-Boot"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("r.toml", []byte(tc.text))
			switch {
			case tc.want == "" && err != nil && tc.name == "tftp fdt without dtb":
				t.Errorf("no dtb should default fdt to board: %v", err)
			case tc.want == "":
			case err == nil:
				t.Fatalf("no error, want %q", tc.want)
			case !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "r.toml:"):
				t.Errorf("error %q lacks %q or the file name", err, tc.want)
			}
		})
	}
}

// TestExampleBoardsLoad: the real-board examples the README points to are
// valid board files.
func TestExampleBoardsLoad(t *testing.T) {
	files, _ := filepath.Glob("examples/*.toml")
	if len(files) == 0 {
		t.Fatal("no example boards")
	}
	for _, f := range files {
		b, err := Load(f)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if !b.NetBoot() || !b.RealHardware() {
			t.Errorf("%s: not a real U-Boot board", f)
		}
	}
}
