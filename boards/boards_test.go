package boards

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestShippedVexpress(t *testing.T) {
	b, err := Shipped("vexpress")
	if err != nil {
		t.Fatal(err)
	}
	if b.Arch != "arm" || b.GOARCH() != "arm" || b.GOARM() != "7" || b.KernelArch() != "arm" {
		t.Errorf("arch %q goarch %q goarm %q karch %q", b.Arch, b.GOARCH(), b.GOARM(), b.KernelArch())
	}
	if b.QEMU.Memory != 512<<20 {
		t.Errorf("memory %v, want 512M", b.QEMU.Memory)
	}
	if !strings.Contains(b.Kernel.CrashCmdline, "maxcpus=1") {
		t.Errorf("crash_cmdline %q lacks maxcpus=1", b.Kernel.CrashCmdline)
	}
	for _, want := range []string{"crashkernel=64M", "nr_cpus=1"} {
		if !strings.Contains(b.Kernel.Cmdline, want) {
			t.Errorf("cmdline %q lacks %s", b.Kernel.Cmdline, want)
		}
	}
	frags, err := b.Fragments()
	if err != nil {
		t.Fatal(err)
	}
	if len(frags) != len(b.Kernel.Fragments) || !strings.Contains(string(frags[0].Text), "CONFIG_KEXEC=y") {
		t.Errorf("fragments %+v", frags)
	}
	if got := b.Kernel.Sources[len(b.Kernel.Sources)-1]; got.Kind != "debian" || got.Package != "linux-source-6.1" {
		t.Errorf("last kernel source %+v, want the offline Debian package", got)
	}
}

func TestEveryShippedBoardLoads(t *testing.T) {
	if len(Names()) == 0 {
		t.Fatal("no shipped boards")
	}
	for _, n := range Names() {
		if _, err := Shipped(n); err != nil {
			t.Errorf("%s: %v", n, err)
		}
	}
}

const minimal = `name = "t"
arch = "arm"
[qemu]
machine = "vexpress-a9"
memory = "256M"
[kernel]
version = "6.1"
defconfig = "vexpress_defconfig"
image = "zImage"
[[kernel.source]]
kind = "debian"
package = "linux-source-6.1"
[[toolchain.source]]
kind = "path"
prefix = "arm-linux-gnueabihf-"
`

func TestValidation(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       []string // substrings of the error
	}{
		{"unknown key", strings.Replace(minimal, "[qemu]\n", "[qemu]\nmachin = \"x\"\n", 1),
			[]string{"t.toml:4:", `unknown key "qemu.machin"`}},
		{"unknown top key", "colour = 1\n" + minimal, []string{"t.toml:1:", `"colour"`}},
		{"missing field", strings.Replace(minimal, "defconfig = \"vexpress_defconfig\"\n", "", 1),
			[]string{"t.toml:", "missing required field(s) kernel.defconfig"}},
		{"bad size", strings.Replace(minimal, `"256M"`, `"256Q"`, 1),
			[]string{"t.toml:5:", "256Q"}},
		{"unknown arch", strings.Replace(minimal, `arch = "arm"`, `arch = "mips"`, 1),
			[]string{`arch "mips": want one of arm, arm64, x86_64`}},
		{"malformed", strings.Replace(minimal, `name = "t"`, `name = "t`, 1), []string{"t.toml:1:"}},
		{"unclosed table", strings.Replace(minimal, "[qemu]", "[qemu", 1), []string{"t.toml:3:", "end table name"}},
		{"unknown source key", strings.Replace(minimal, "kind = \"path\"\n", "kind = \"path\"\nurl2 = \"x\"\n", 1),
			[]string{"t.toml:15:", `unknown key "toolchain.source.url2"`}},
		{"unhashed tarball", minimal + "[[kernel.source]]\nkind = \"tarball\"\nurl = \"http://x/y.tar.xz\"\n",
			[]string{"kernel.source[1]", "needs sha256 or checksums"}},
		{"bad target", minimal + "[kdump]\ntargets = [\"floppy\"]\n", []string{`kdump.targets: "floppy"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("t.toml", []byte(tc.text))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestMinimalDefaults(t *testing.T) {
	b, err := Parse("t.toml", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if b.QEMU.Binary != "qemu-system-arm" || b.QEMU.SMP != 1 || b.Kdump.Timeouts.Boot == 0 {
		t.Errorf("defaults not applied: %+v", b.QEMU)
	}
}

func TestUnknownBoard(t *testing.T) {
	_, err := Shipped("nosuch")
	if !errors.Is(err, ErrUnknownBoard) || !strings.Contains(err.Error(), "vexpress") {
		t.Errorf("err = %v", err)
	}
}

func TestUserFragmentRelativeToBoard(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "extra.config"), []byte("CONFIG_FOO=y\n"), 0o644)
	file := filepath.Join(dir, "b.toml")
	os.WriteFile(file, []byte(strings.Replace(minimal, "image = \"zImage\"\n", "image = \"zImage\"\nfragments = [\"kdump\", \"extra.config\"]\n", 1)), 0o644)
	b, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}
	frags, err := b.Fragments()
	if err != nil {
		t.Fatal(err)
	}
	if string(frags[1].Text) != "CONFIG_FOO=y\n" {
		t.Errorf("got %q", frags[1].Text)
	}
	b.Kernel.Fragments = []string{"nosuchfragment"}
	if _, err := b.Fragments(); err == nil || !strings.Contains(err.Error(), "nosuchfragment") {
		t.Errorf("missing fragment: %v", err)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]Size{"512M": 512 << 20, "1G": 1 << 30, "64k": 64 << 10, "4096": 4096} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "M", "-1M", "0", "12X", "99999999999999999999G"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) accepted", in)
		}
	}
	if s := Size(512 << 20).String(); s != "512M" {
		t.Errorf("String = %s", s)
	}
}

// FuzzParse: any text gives a board or an error naming the file, never a
// panic (keyLine scans text the TOML decoder already refused or accepted).
func FuzzParse(f *testing.F) {
	data, err := shipped.ReadFile("vexpress.toml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(data))
	f.Add(minimal)
	f.Add(strings.Replace(minimal, "[qemu]\n", "[qemu]\nmachin = \"x\"\n", 1))
	f.Add("[a.b]\n\"c.d\" = 1\n[[a.b.e]]\n")
	f.Fuzz(func(t *testing.T, text string) {
		b, err := Parse("fuzz.toml", []byte(text))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.toml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if b.GOARCH() == "" || b.KernelArch() == "" || b.QEMU.Memory == 0 {
			t.Fatalf("accepted an incomplete board: %+v", b)
		}
	})
}
