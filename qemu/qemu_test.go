package qemu

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kdumpkit/kdumpkit/boards"
)

func vexpress(t *testing.T) *boards.Board {
	b, err := boards.Shipped("vexpress")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestArgs(t *testing.T) {
	r := &Run{Board: vexpress(t), Kernel: "zImage", DTB: "x.dtb", Initrd: "i.gz", Append: "kdumpkit.mode=test", Share: "/tmp/s", Disk: "/tmp/d.img"}
	got := strings.Join(r.Args(), " ")
	for _, want := range []string{"-M vexpress-a9 -m 512M -smp 1", "-kernel zImage -dtb x.dtb -initrd i.gz",
		"-append console=ttyAMA0 crashkernel=64M nr_cpus=1 kdumpkit.mode=test", "-nographic -no-reboot",
		"-fsdev local,id=dump0,path=/tmp/s,security_model=none -device virtio-9p-device,fsdev=dump0,mount_tag=dump",
		"-drive file=/tmp/d.img,if=none,format=raw,id=disk0 -device virtio-blk-device,drive=disk0", "-audiodev none,id=snd0"} {
		if !strings.Contains(got, want) {
			t.Errorf("args lack %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "-s -S") {
		t.Error("gdb flags without GDB")
	}
	r.GDB = true
	if !strings.Contains(strings.Join(r.Args(), " "), "-s -S") || !strings.Contains(GDBCommand("vmlinux"), "target remote :1234") {
		t.Error("gdb mode")
	}
}

func stages(timeout time.Duration) []Stage {
	return []Stage{
		{Name: "booted", Marker: regexp.MustCompile(`Run /init`), Timeout: timeout},
		{Name: "crash kernel loaded", Marker: regexp.MustCompile(`KDUMPKIT: READY`), Fail: regexp.MustCompile(`KDUMPKIT: LOAD FAILED`), Timeout: timeout},
		{Name: "capture kernel up", Marker: regexp.MustCompile(`KDUMPKIT: CAPTURE KERNEL UP`), Timeout: timeout},
	}
}

func watch(t *testing.T, console string, hold bool) (error, []string) {
	pr, pw := io.Pipe()
	go func() {
		io.WriteString(pw, console)
		if !hold {
			pw.Close()
		}
	}()
	var got []string
	w := &Watcher{Stages: stages(300 * time.Millisecond), LogPath: "/x/console.log", Reached: func(r Reached) { got = append(got, r.Stage) }}
	return w.Watch(pr), got
}

func TestWatchStagesInOrder(t *testing.T) {
	err, got := watch(t, "Booting Linux on physical CPU 0x0\nRun /init as init process\nKDUMPKIT: READY crash kernel loaded\nKernel panic\nBooting Linux on physical CPU 0x0\nKDUMPKIT: CAPTURE KERNEL UP\n", false)
	if err != nil || len(got) != 3 {
		t.Fatalf("%v %v", err, got)
	}
}

func TestWatchFailuresExplained(t *testing.T) {
	for _, c := range []struct {
		name, console, stage, cause string
		hold                        bool
	}{
		{"crashkernel too big", "Booting Linux on physical CPU 0x0\ncrashkernel reservation failed - No suitable area found.\nRun /init as init process\nKDUMPKIT: LOAD FAILED no \"Crash kernel\" region in /proc/iomem\n",
			"crash kernel loaded", "crashkernel= is too big for the board's RAM", false},
		{"nr_cpus", "Booting Linux on physical CPU 0x0\nReserving 64MB of memory at 1920MB for crashkernel\nRun /init as init process\nKDUMPKIT: LOAD FAILED SYS_kexec_load(entry=0x78008000, nr=4, flags=0x280001) = invalid argument: on ARM...\n",
			"crash kernel loaded", "nr_cpus=1", false},
		{"no capture kernel", "Booting Linux on physical CPU 0x0\nReserving 64MB for crashkernel\nRun /init as init process\nKDUMPKIT: READY crash kernel loaded\nKernel panic - not syncing: sysrq triggered crash\nLoading crashdump kernel...\n",
			"capture kernel up", "the crash kernel did not start", true},
		{"no vmcore", "Booting Linux on physical CPU 0x0\nReserving for crashkernel\nRun /init as init process\nKDUMPKIT: READY\nKernel panic\nBooting Linux on physical CPU 0x0\nKDUMPKIT: CAPTURE FAILED no /proc/vmcore in the capture kernel\n",
			"capture kernel up", "CONFIG_PROC_VMCORE", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			err, _ := watch(t, c.console, c.hold)
			var se *StageError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v", err)
			}
			if se.Stage != c.stage || !strings.Contains(se.Cause, c.cause) || !strings.Contains(se.Error(), "/x/console.log") || len(se.Tail) == 0 {
				t.Errorf("stage %q cause %q\n%v", se.Stage, se.Cause, se)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

// TestStringIsSafeToPaste: the printed command line, run by a shell,
// gives QEMU's argv back word for word and runs nothing else.
func TestStringIsSafeToPaste(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	dir := t.TempDir()
	proof := filepath.Join(dir, "ran")
	b := vexpress(t)
	b.QEMU.Binary = "X=1 qemu $(touch " + proof + ")"
	b.QEMU.Args = []string{"-name", "it's `touch " + proof + "`", "", "~", "*", "a\nb", "-device", "x,y=z", "{a,b}", "\\", "!x", "#c", "%1", "a;b", "a|b", "a&b", "<x", ">y"}
	r := &Run{Board: b, Kernel: filepath.Join(dir, "my kernel"), Initrd: "$(touch " + proof + ")", Append: "a=\"b c\";d",
		Share: filepath.Join(dir, "dump dir"), Disk: filepath.Join(dir, "$HOME.img")}
	line := r.String()
	out, err := exec.Command(bash, "-c", `printf '%s\0' `+line).Output()
	if err != nil {
		t.Fatalf("bash: %v\n%s", err, line)
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	want := append([]string{b.QEMU.Binary}, r.Args()...)
	if !slices.Equal(got, want) {
		t.Errorf("the shell read\n%q\nfrom %s\nwant\n%q", got, line, want)
	}
	if _, err := os.Stat(proof); err == nil {
		t.Errorf("pasting %s ran a command", line)
	}
	// Plain words stay readable.
	plain := (&Run{Board: vexpress(t), Kernel: "zImage"}).String()
	if !strings.HasPrefix(plain, "qemu-system-arm -M vexpress-a9 -m 512M -smp 1 -kernel zImage -append 'console=ttyAMA0 crashkernel=64M nr_cpus=1'") {
		t.Errorf("plain line: %s", plain)
	}
}

// TestFirmwareArgs: a U-Boot board's QEMU runs its firmware instead of a
// kernel, its console on a pty for kdumpkit (on the terminal for qemu:run).
func TestFirmwareArgs(t *testing.T) {
	b, err := boards.Shipped("arm64-uboot")
	if err != nil {
		t.Fatal(err)
	}
	r := &Run{Board: b}
	got := strings.Join(r.Args(), " ")
	for _, want := range []string{"-bios /usr/lib/u-boot/qemu_arm64/u-boot.bin", "-serial pty", "-monitor none", "virtio-net-device"} {
		if !strings.Contains(got, want) {
			t.Errorf("args %q lack %q", got, want)
		}
	}
	for _, not := range []string{"-kernel", "-append", "-initrd", "-nographic"} {
		if strings.Contains(got, not) {
			t.Errorf("args %q have %q", got, not)
		}
	}
	if term := strings.Join(r.args(true), " "); !strings.Contains(term, "-nographic") || strings.Contains(term, "-serial pty") {
		t.Errorf("terminal args %q", term)
	}
}
