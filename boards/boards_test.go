package boards

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
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
			[]string{`t.toml:2: arch: "mips": want one of arm, arm64, x86_64`}},
		{"malformed", strings.Replace(minimal, `name = "t"`, `name = "t`, 1), []string{"t.toml:1:"}},
		{"unclosed table", strings.Replace(minimal, "[qemu]", "[qemu", 1), []string{"t.toml:3:", "end table name"}},
		{"unknown source key", strings.Replace(minimal, "kind = \"path\"\n", "kind = \"path\"\nurl2 = \"x\"\n", 1),
			[]string{"t.toml:15:", `unknown key "toolchain.source.url2"`}},
		{"unhashed tarball", minimal + "[[kernel.source]]\nkind = \"tarball\"\nurl = \"http://x/y.tar.xz\"\n",
			[]string{"t.toml:18: kernel.source[1].url", "needs sha256 or checksums"}},
		{"bad target", minimal + "[kdump]\ntargets = [\"floppy\"]\n", []string{`t.toml:17: kdump.targets[0]: "floppy"`}},
		{"bad kexec", minimal + "[kdump]\nkexec = \"kexec_load\"\n", []string{`t.toml:17: kdump.kexec: "kexec_load": want auto, file or load`}},
		{"kexec_file_load on ARM32", minimal + "[kdump]\nkexec = \"file\"\n", []string{`t.toml:17: kdump.kexec: "file": ARM32 has no kexec_file_load`}},
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
	if b.QEMU.Binary != "qemu-system-arm" || b.QEMU.SMP != 1 || b.Kdump.Timeouts.Boot == 0 || b.Kdump.Kexec != "auto" {
		t.Errorf("defaults not applied: %+v %+v", b.QEMU, b.Kdump)
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
	for in, want := range map[string]Size{"512M": 512 << 20, "1G": 1 << 30, "64k": 64 << 10, "4K": 4096, " 2T ": 2 << 40} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "M", "-1M", "0", "12X", "99999999999999999999G", "4096", "16777216T", "1.5G", "0x10M"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) accepted", in)
		}
	}
	if s := Size(512 << 20).String(); s != "512M" {
		t.Errorf("String = %s", s)
	}
}

// TestHostileBoardsFailAtLoad: each value that would reach make, apt-get,
// a path or QEMU as something the user did not mean is refused by Parse in
// one line naming the file, the line that sets it and the field.
func TestHostileBoardsFailAtLoad(t *testing.T) {
	for _, tc := range []struct {
		name, old, new, want string
	}{
		{"make option injection", `defconfig = "vexpress_defconfig"`, `defconfig = "--eval=$(shell touch X)"`, "t.toml:8: kernel.defconfig:"},
		{"make variable in image", `image = "zImage"`, `image = "CC=$(shell id)"`, "t.toml:9: kernel.image:"},
		{"make option in image", `image = "zImage"`, `image = "-B"`, "t.toml:9: kernel.image:"},
		{"dtb outside dts", `image = "zImage"`, "image = \"zImage\"\ndtb = \"../../../x.dtb\"", "t.toml:10: kernel.dtb:"},
		{"dtb two dirs", `image = "zImage"`, "image = \"zImage\"\ndtb = \"a/b/x.dtb\"", "t.toml:10: kernel.dtb:"},
		{"dtb option", `image = "zImage"`, "image = \"zImage\"\ndtb = \"-x.dtb\"", "t.toml:10: kernel.dtb:"},
		{"absolute fragment", `image = "zImage"`, "image = \"zImage\"\nfragments = [\"kdump\", \"/etc/shadow\"]", "t.toml:10: kernel.fragments[1]:"},
		{"fragment up the tree", `image = "zImage"`, "image = \"zImage\"\nfragments = [\"../x.config\"]", "t.toml:10: kernel.fragments[0]:"},
		{"name escapes build", `name = "t"`, `name = "../../x"`, "t.toml:1: name:"},
		{"name with slash", `name = "t"`, `name = "a/b"`, "t.toml:1: name:"},
		{"plain-number memory", `memory = "256M"`, `memory = 512`, "t.toml:5: qemu.memory: size \"512\": size needs a unit: write 512M"},
		{"plain-number string memory", `memory = "256M"`, `memory = "512"`, "write 512M"},
		{"huge memory", `memory = "256M"`, `memory = "16000000T"`, "t.toml:5: qemu.memory:"},
		{"tiny memory", `memory = "256M"`, `memory = "4K"`, "t.toml:5: qemu.memory:"},
		{"smp bound", `memory = "256M"`, "memory = \"256M\"\nsmp = 100000", "t.toml:6: qemu.smp:"},
		{"negative smp", `memory = "256M"`, "memory = \"256M\"\nsmp = -1", "t.toml:6: qemu.smp:"},
		{"apt option as package", `package = "linux-source-6.1"`, `package = "--allow-unauthenticated"`, "t.toml:12: kernel.source[0].package:"},
		{"package with glob", `package = "linux-source-6.1"`, `package = "linux-*"`, "t.toml:12: kernel.source[0].package:"},
		{"prefix runs a command", `prefix = "arm-linux-gnueabihf-"`, `prefix = "$(shell id)-"`, "t.toml:15: toolchain.source[0].prefix:"},
		{"prefix with a directory", `prefix = "arm-linux-gnueabihf-"`, `prefix = "/tmp/evil/arm-"`, "t.toml:15: toolchain.source[0].prefix:"},
		{"version", `version = "6.1"`, `version = "6.1 x"`, "t.toml:7: kernel.version:"},
		{"NUL in qemu args", `memory = "256M"`, "memory = \"256M\"\nargs = [\"-a\", \"x\\u0000y\"]", "t.toml:6: qemu.args[1]:"},
		{"target adds a kernel parameter", `memory = "256M"`, "memory = \"256M\"\n[kdump]\ntargets = [\"http://h/ init=/bin/sh\"]", "t.toml:7: kdump.targets[0]:"},
		{"timeout too long", `memory = "256M"`, "memory = \"256M\"\n[kdump.timeouts]\ncapture = \"1000h\"", "t.toml:7: kdump.timeouts.capture:"},
		{"tarball without url", `prefix = "arm-linux-gnueabihf-"`, "prefix = \"arm-linux-gnueabihf-\"\n[[toolchain.source]]\nkind = \"tarball\"\nsha256 = \"" + strings.Repeat("a", 64) + "\"", "t.toml:16: toolchain.source[1].url:"},
		{"escape sequence in url", `prefix = "arm-linux-gnueabihf-"`, "prefix = \"arm-linux-gnueabihf-\"\n[[toolchain.source]]\nkind = \"tarball\"\nurl = \"http://x/\\u001b[2Jy.tar.xz\"\nsha256 = \"" + strings.Repeat("a", 64) + "\"", "t.toml:18: toolchain.source[1].url:"},
		{"timeout not a duration", `memory = "256M"`, "memory = \"256M\"\n[kdump.timeouts]\nboot = 90", "t.toml:7: kdump.timeouts.boot:"},
		{"debian version not a version", `package = "linux-source-6.1"`, "package = \"linux-source-6.1\"\nversion = \"--force\"", "t.toml:13: kernel.source[0].version:"},
		{"debian version with a space", `package = "linux-source-6.1"`, "package = \"linux-source-6.1\"\nversion = \"6.1 x\"", "t.toml:13: kernel.source[0].version:"},
		{"version on a toolchain package", `prefix = "arm-linux-gnueabihf-"`, "prefix = \"arm-linux-gnueabihf-\"\n[[toolchain.source]]\nkind = \"debian\"\npackage = \"gcc\"\nversion = \"12\"", "t.toml:19: toolchain.source[1].version:"},
		{"tree without path", `kind = "debian"`, "kind = \"tree\"", "t.toml:10: kernel.source[0].path:"},
		{"tree with package", `kind = "debian"`, "kind = \"tree\"\npath = \"/src/linux\"", "t.toml:13: kernel.source[0].package:"},
		{"tree toolchain", `kind = "path"`, "kind = \"tree\"\npath = \"/x\"", "t.toml:14: toolchain.source[0].kind:"},
		{"tree path with escape", `kind = "debian"`, "kind = \"tree\"\npath = \"/src/\\u001b[2J\"\n[[kernel.source]]\nkind = \"debian\"", "t.toml:12: kernel.source[0].path:"},
		{"git without url", `kind = "debian"`, "kind = \"git\"", "t.toml:10: kernel.source[0].url:"},
		{"git url is an option", `kind = "debian"`, "kind = \"git\"\nurl = \"--upload-pack=touch x\"", "t.toml:12: kernel.source[0].url:"},
		{"git remote helper", `kind = "debian"`, "kind = \"git\"\nurl = \"ext::sh -c id\"", "t.toml:12: kernel.source[0].url:"},
		{"git ref is an option", `kind = "debian"`, "kind = \"git\"\nurl = \"/src/linux.git\"\nref = \"--output=/etc/x\"", "t.toml:13: kernel.source[0].ref:"},
		{"git ref is a range", `kind = "debian"`, "kind = \"git\"\nurl = \"/src/linux.git\"\nref = \"v6.1..v6.2\"", "t.toml:13: kernel.source[0].ref:"},
		{"ref on a debian source", `package = "linux-source-6.1"`, "package = \"linux-source-6.1\"\nref = \"main\"", "t.toml:13: kernel.source[0].ref:"},
		{"path on a tarball", "kind = \"debian\"\npackage = \"linux-source-6.1\"", "kind = \"tarball\"\nurl = \"http://x/y.tar.xz\"\nsha256 = \"" + strings.Repeat("a", 64) + "\"\npath = \"/x\"", "t.toml:14: kernel.source[0].path:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := strings.Replace(minimal, tc.old, tc.new, 1)
			if text == minimal {
				t.Fatalf("replacement %q not found", tc.old)
			}
			_, err := Parse("t.toml", []byte(text))
			if err == nil {
				t.Fatalf("accepted:\n%s", text)
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "t.toml:") ||
				strings.ContainsAny(err.Error(), "\n\x00") {
				t.Errorf("error %q: want one line with %q wrapping ErrInvalid", err, tc.want)
			}
		})
	}
}

// TestFragmentsStayInsideBoardDir: a path fragment may be anywhere under
// the board file's directory, never through a symbolic link out of it,
// and never a FIFO or device that would block or fill memory.
func TestFragmentsStayInsideBoardDir(t *testing.T) {
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret.config")
	os.WriteFile(secret, []byte("CONFIG_SECRET=y\n"), 0o644)
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "frags"), 0o755)
	os.WriteFile(filepath.Join(dir, "frags", "mine.config"), []byte("CONFIG_MINE=y\n"), 0o644)
	if err := os.Symlink(secret, filepath.Join(dir, "link.config")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo.config"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "big.config"), bytes.Repeat([]byte("# x\n"), MaxFragmentSize/4+1), 0o644)
	load := func(frag string) ([]Fragment, error) {
		file := filepath.Join(dir, "b.toml")
		text := strings.Replace(minimal, "image = \"zImage\"\n", "image = \"zImage\"\nfragments = [\""+frag+"\"]\n", 1)
		os.WriteFile(file, []byte(text), 0o644)
		b, err := Load(file)
		if err != nil {
			return nil, err
		}
		return b.Fragments()
	}
	frags, err := load("frags/../frags/mine.config")
	if err != nil || len(frags) != 1 || string(frags[0].Text) != "CONFIG_MINE=y\n" {
		t.Errorf("a fragment inside the board's tree: %v, %+v", err, frags)
	}
	if _, err := load("link.config"); !errors.Is(err, ErrOutsideBoard) || !strings.Contains(err.Error(), "link.config") {
		t.Errorf("a symbolic link out of the board's tree: %v", err)
	}
	done := make(chan error, 1)
	go func() { _, err := load("fifo.config"); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, ErrNotRegular) {
			t.Errorf("a FIFO fragment: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a FIFO fragment blocks")
	}
	if _, err := load("big.config"); err == nil || !strings.Contains(err.Error(), "too large: more than 1048576 bytes") {
		t.Errorf("an oversized fragment: %v", err)
	}
	// A Board changed after Parse is checked again where the file is read.
	b, err := Parse(filepath.Join(dir, "b.toml"), []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	b.Kernel.Fragments = []string{secret}
	if _, err := b.Fragments(); !errors.Is(err, ErrInvalid) {
		t.Errorf("an absolute fragment set after Parse: %v", err)
	}
}

// FuzzParse: any text gives a board or a one-line error naming the file,
// never a panic; an accepted board passes every check the loader makes:
// a name fit for a directory, file names fit for make, sizes and counts
// within bounds, package names fit for apt-get.
func FuzzParse(f *testing.F) {
	data, err := shipped.ReadFile("vexpress.toml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(data))
	f.Add(minimal)
	f.Add(strings.Replace(minimal, "[qemu]\n", "[qemu]\nmachin = \"x\"\n", 1))
	f.Add("[a.b]\n\"c.d\" = 1\n[[a.b.e]]\n")
	for _, r := range [][2]string{
		{`defconfig = "vexpress_defconfig"`, `defconfig = "--eval=$(shell touch X)"`},
		{`image = "zImage"`, "image = \"zImage\"\nfragments = [\"/etc/shadow\"]\ndtb = \"arm/x.dtb\""},
		{`name = "t"`, `name = "../../x"`},
		{`memory = "256M"`, `memory = 512`},
		{`memory = "256M"`, `memory = "16000000T"`},
		{`package = "linux-source-6.1"`, `package = "-x"`},
		{`prefix = "arm-linux-gnueabihf-"`, `prefix = "$(x)-"`},
	} {
		f.Add(strings.Replace(minimal, r[0], r[1], 1))
	}
	f.Fuzz(func(t *testing.T, text string) {
		b, err := Parse("fuzz.toml", []byte(text))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.toml") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is not one line naming the file: %q", err)
			}
			return
		}
		checkAccepted(t, b)
	})
}

// checkAccepted restates the loader's promises independently of its code.
func checkAccepted(t *testing.T, b *Board) {
	t.Helper()
	fileName := func(s string, dirs int) bool {
		return s != "" && s[0] != '-' && s[0] != '.' && strings.Count(s, "/") <= dirs &&
			!strings.ContainsAny(s, "$=()`;|&<>*?[]{}\"' \t\n\\\x00") && !strings.Contains(s, "..")
	}
	switch {
	case b.GOARCH() == "" || b.KernelArch() == "":
		t.Fatalf("accepted arch %q", b.Arch)
	case !fileName(b.Name, 0) || strings.ToLower(b.Name) != b.Name:
		t.Fatalf("accepted name %q", b.Name)
	case !fileName(b.Kernel.Defconfig, 0) || !fileName(b.Kernel.Image, 0) || (b.Kernel.DTB != "" && !fileName(b.Kernel.DTB, 1)):
		t.Fatalf("accepted make targets %q %q %q", b.Kernel.Defconfig, b.Kernel.Image, b.Kernel.DTB)
	case b.QEMU.Memory < MinMemory || b.QEMU.Memory > MaxMemory || b.QEMU.Memory%1024 != 0:
		t.Fatalf("accepted memory %d", b.QEMU.Memory)
	case b.QEMU.SMP < 1 || b.QEMU.SMP > MaxSMP:
		t.Fatalf("accepted smp %d", b.QEMU.SMP)
	}
	for _, fr := range b.Kernel.Fragments {
		if filepath.IsAbs(fr) || strings.HasPrefix(filepath.Clean(fr), "..") {
			t.Fatalf("accepted fragment %q", fr)
		}
	}
	for _, s := range append(b.Kernel.Sources, b.Toolchain.Sources...) {
		if s.Kind == "debian" && (!fileName(s.Package, 0) || strings.ToLower(s.Package) != s.Package) {
			t.Fatalf("accepted package %q", s.Package)
		}
		if s.Prefix != "" && (!fileName(s.Prefix, 0) || !strings.HasSuffix(s.Prefix, "-")) {
			t.Fatalf("accepted prefix %q", s.Prefix)
		}
	}
	for _, d := range []Duration{b.Kdump.Timeouts.Boot, b.Kdump.Timeouts.Load, b.Kdump.Timeouts.Panic, b.Kdump.Timeouts.Capture, b.Kdump.Timeouts.Poweroff} {
		if d.D() <= 0 || d.D() > MaxTimeout {
			t.Fatalf("accepted timeout %v", d.D())
		}
	}
}

// FuzzParseSize: an accepted size has a unit and prints back to itself,
// so what QEMU's -m reads is what kdumpkit meant.
func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"512M", "1G", "64k", "4096", "16000000T", "99999999999999999999G", " 2T ", "0M", "M"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseSize(s)
		if err != nil {
			if !strings.Contains(err.Error(), fmt.Sprintf("%q", s)) {
				t.Fatalf("error %q does not quote the input", err)
			}
			return
		}
		if v == 0 || v%1024 != 0 {
			t.Fatalf("%q → %d bytes: not a whole number of KiB", s, v)
		}
		back, err := ParseSize(v.String())
		if err != nil || back != v {
			t.Fatalf("%q → %d → %q → %d, %v", s, v, v.String(), back, err)
		}
	})
}

// TestTreeGitAndPinnedSources: the developer's own sources parse, and a
// relative tree path or git url is taken from the board file's directory.
func TestTreeGitAndPinnedSources(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "mine.toml")
	text := strings.Replace(minimal, "[[kernel.source]]\nkind = \"debian\"\npackage = \"linux-source-6.1\"\n",
		"[[kernel.source]]\nkind = \"tree\"\npath = \"../linux\"\n"+
			"[[kernel.source]]\nkind = \"git\"\nurl = \"linux.git\"\nref = \"v6.1.172\"\n"+
			"[[kernel.source]]\nkind = \"git\"\nurl = \"https://git.kernel.org/pub/scm/linux/kernel/git/stable/linux.git\"\n"+
			"[[kernel.source]]\nkind = \"debian\"\npackage = \"linux-source-6.1\"\nversion = \"6.1.172-1\"\n", 1)
	os.WriteFile(file, []byte(text), 0o644)
	b, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}
	s := b.Kernel.Sources
	if len(s) != 4 || s[0].Path != "../linux" || s[1].Ref != "v6.1.172" || s[2].Ref != "" || s[3].Version != "6.1.172-1" {
		t.Fatalf("sources %+v", s)
	}
	if got, want := b.LocalPath(s[0].Path), filepath.Join(filepath.Dir(dir), "linux"); got != want {
		t.Errorf("tree path %s, want %s", got, want)
	}
	if got := b.LocalPath(s[1].URL); got != filepath.Join(dir, "linux.git") {
		t.Errorf("git path %s", got)
	}
	home, _ := os.UserHomeDir()
	if got := b.LocalPath("~/src/linux"); got != filepath.Join(home, "src/linux") {
		t.Errorf("~ path %s", got)
	}
	if got := b.LocalPath("/abs/./linux"); got != "/abs/linux" {
		t.Errorf("absolute path %s", got)
	}
}

// FuzzGitSource: a git url and ref the loader accepts can reach git
// neither as an option, nor a remote helper, nor a revision expression.
func FuzzGitSource(f *testing.F) {
	f.Add("https://git.kernel.org/linux.git", "linux-6.1.y")
	f.Add("../linux.git", "v6.1.172")
	f.Add("--upload-pack=x", "-b")
	f.Add("ext::sh", "a..b")
	f.Fuzz(func(t *testing.T, url, ref string) {
		if checkGitURL(url) == nil && (strings.HasPrefix(url, "-") || strings.Contains(url, "::") || strings.ContainsFunc(url, isControl)) {
			t.Fatalf("url %q accepted", url)
		}
		if validGitRef(ref) && (strings.HasPrefix(ref, "-") || strings.Contains(ref, "..") || strings.ContainsAny(ref, " ~^:?*[\\\x00\n") || strings.Contains(ref, "@{")) {
			t.Fatalf("ref %q accepted", ref)
		}
	})
}
