package uboot

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/kdumpkit/kdumpkit/boards"
	"github.com/kdumpkit/kdumpkit/console"
	"github.com/kdumpkit/kdumpkit/netboot"
	"github.com/kdumpkit/kdumpkit/qemu"
)

func TestTransferred(t *testing.T) {
	for _, c := range []struct {
		out  string
		want int64
	}{
		{"Loading: ####\r\n\t 11.1 MiB/s\r\ndone\r\nBytes transferred = 7292936 (6f4808 hex)\r\n", 7292936},
		{"TFTP error: 'File not found' (1)\r\nNot retrying...\r\n", -1},
		{"Bytes transferred = 99999999999999999999999 (x hex)", -1},
	} {
		if got := transferred(c.out); got != c.want {
			t.Errorf("transferred(%q) = %d, want %d", c.out, got, c.want)
		}
	}
}

func TestFailure(t *testing.T) {
	for _, c := range []struct{ out, want string }{
		{"Filename 'x'.\r\nTFTP error: 'File not found' (1)\r\n", ": TFTP error: 'File not found' (1)"},
		{"DHCP client bound to address 10.0.2.15 (2 ms)\r\n", ""},
		{"Unknown command 'booti' - try 'help'\r\n", ": Unknown command 'booti'"},
		{"Bytes transferred = 12 (c hex)\r\n", ""},
	} {
		if got := failure(c.out); got != c.want {
			t.Errorf("failure(%q) = %q, want %q", c.out, got, c.want)
		}
	}
}

// board starts the shipped U-Boot board's QEMU (Debian's U-Boot as the
// virt machine's firmware) and opens its console pty as a serial device;
// it skips when the host cannot.
func board(t *testing.T) (*boards.Board, *console.Console, *qemu.Process) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: boots QEMU")
	}
	b, err := boards.Shipped("arm64-uboot")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath(b.QEMU.Binary); err != nil {
		t.Skipf("no %s: `go run mage.go test` installs qemu-system-arm", b.QEMU.Binary)
	}
	if _, err := os.Stat(b.QEMU.Firmware); err != nil {
		t.Skipf("no U-Boot for QEMU (%v): `go run mage.go test` installs u-boot-qemu", err)
	}
	p, pty, err := (&qemu.Run{Board: b, Console: io.Discard}).StartBoard(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	con, err := console.Open(pty, b.Console.Baud, io.Discard)
	if err != nil {
		p.Kill()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Kill()
		p.Wait(time.Minute)
		con.Close()
	})
	return b, con, p
}

// serve starts kdumpkit's TFTP server on the board's port 69 with files,
// skipping when the port cannot be bound without privileges.
func serve(t *testing.T, b *boards.Board, files map[string]string) *netboot.Server {
	addr := net.JoinHostPort(b.Network.Listen, "69")
	unlock, err := netboot.LockPort(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(unlock)
	s := &netboot.Server{Files: files, Log: io.Discard}
	if err := s.Listen(addr); err != nil {
		if errors.Is(err, os.ErrPermission) {
			t.Skip(err)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestBootStopsOnMissingFile: real U-Boot asks kdumpkit's real TFTP
// server for the initramfs, which it does not serve; the boot stops at
// that transfer, naming the file and quoting U-Boot's error.
func TestBootStopsOnMissingFile(t *testing.T) {
	b, con, _ := board(t)
	img := b.QEMU.Firmware // any file will do as the "kernel": U-Boot never gets that far
	s := serve(t, b, map[string]string{KernelName: img})
	fi, _ := os.Stat(img)
	sess := &Session{C: con, Board: b, Files: Files{Kernel: fi.Size(), Initrd: 1}, Cmdline: "console=ttyAMA0", Log: io.Discard,
		Missed: s.Missed, Served: s.Names()}
	err := sess.Boot()
	var se *qemu.StageError
	if !errors.As(err, &se) {
		t.Fatalf("Boot = %v, want a stage error", err)
	}
	if se.Stage != "tftp "+InitrdName || !strings.Contains(se.Cause, `"`+InitrdName+`"`) || !strings.Contains(se.Cause, KernelName) {
		t.Errorf("stage %q cause %q: want the initramfs transfer, naming the file asked for and what is served", se.Stage, se.Cause)
	}
	if !strings.Contains(strings.Join(se.Tail, "\n"), "TFTP error") {
		t.Errorf("the console's last lines do not show U-Boot's TFTP error:\n%s", strings.Join(se.Tail, "\n"))
	}
	if m := s.Missed(); len(m) != 1 || m[0] != InitrdName {
		t.Errorf("server saw requests for %q, want just %q", m, InitrdName)
	}
}

// TestBootNoPrompt: a board file whose prompt is not what U-Boot prints
// stops at "u-boot prompt" once the timeout passes, with U-Boot's own
// lines in the error.
func TestBootNoPrompt(t *testing.T) {
	b, con, _ := board(t)
	b.UBoot.Prompt = "kdumpkit-never> "
	b.UBoot.PromptTimeout = boards.Duration(8 * time.Second)
	start := time.Now()
	err := (&Session{C: con, Board: b, Log: io.Discard}).Boot()
	var se *qemu.StageError
	if !errors.As(err, &se) || se.Stage != "u-boot prompt" {
		t.Fatalf("Boot = %v, want stage \"u-boot prompt\"", err)
	}
	if d := time.Since(start); d > time.Minute {
		t.Errorf("took %s for an 8s prompt timeout", d)
	}
	if !strings.Contains(se.Cause, "never reached U-Boot's prompt") || !strings.Contains(strings.Join(se.Tail, "\n"), "=>") {
		t.Errorf("cause %q, tail %q: want the likely cause and U-Boot's real prompt in the last lines", se.Cause, se.Tail)
	}
}

// TestConsoleVanishes: the console's device goes away (QEMU killed, as a
// cable pulled) while kdumpkit waits; the wait ends at once with an error
// naming the device, not at the timeout.
func TestConsoleVanishes(t *testing.T) {
	b, con, p := board(t)
	time.AfterFunc(2*time.Second, p.Kill)
	start := time.Now()
	b.UBoot.Prompt = "kdumpkit-never> "
	b.UBoot.PromptTimeout = boards.Duration(2 * time.Minute)
	err := (&Session{C: con, Board: b, Log: io.Discard}).Boot()
	var se *qemu.StageError
	if !errors.As(err, &se) || !strings.Contains(se.Cause, "vanished") || !strings.Contains(se.Cause, con.Device) {
		t.Fatalf("Boot = %v, want a stage error saying %s vanished", err, con.Device)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("noticed after %s", d)
	}
}

func TestFITArgs(t *testing.T) {
	b, err := boards.Shipped("arm64-uboot")
	if err != nil {
		t.Fatal(err)
	}
	u := *b.UBoot
	u.Boot, u.KernelAddr, u.FDT = "fit", "0x40480000", "tftp"
	b.UBoot = &u
	got := strings.Join(FITArgs(b, "Image", "initrd", "board.dtb", "out.itb"), " ")
	want := "-f auto -A arm64 -O linux -T kernel -C none -a 0x40480000 -e 0x40480000 -n kdumpkit arm64-uboot -d Image -i initrd -b board.dtb out.itb"
	if got != want {
		t.Errorf("mkimage %s\nwant    %s", got, want)
	}
}
