package protocol

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestConfigLayers(t *testing.T) {
	c := DefaultConfig()
	c.Apply([]byte("# board\ncrash_cmdline=console=ttyAMA0 maxcpus=1\ntargets=9p\n"))
	c.ApplyCmdline(`console=ttyAMA0 kdumpkit.mode=test kdumpkit.crash=BUG kdumpkit.crash_cmdline="console=ttyS0 nr_cpus=1" kdumpkit.kexec=load quiet`)
	if c.Mode != "test" || c.Crash != "BUG" || c.Targets != "9p" || c.CrashCmdline != "console=ttyS0 nr_cpus=1" || c.Kexec != "load" {
		t.Errorf("%+v", c)
	}
}

func TestConfigRefusesBadValues(t *testing.T) {
	c := DefaultConfig()
	errs := c.Apply([]byte("mode=test\nmode=reboot\ncrash_cmdline=console=ttyS0 foo=\"\ncrash_kernel=kernel\nbogus\nspeed=9\nkexec=kexec_load\n"))
	want := []string{`line 2: mode="reboot"`, `line 3: crash_cmdline=`, `line 4: crash_kernel="kernel"`, `line 5: "bogus" is not KEY=VALUE`, `line 6: speed: unknown setting`,
		`line 7: kexec="kexec_load": want one of auto, file, load`}
	checkErrs(t, errs, want)
	errs = c.ApplyCmdline(`kdumpkit.targets="9p init=/bin/sh" kdumpkit.crash=BUG kdumpkit.crash="PANIC > /x" kdumpkit.capture_initrd=/kdump/../etc/x quiet`)
	checkErrs(t, errs, []string{`kdumpkit.targets="9p init=/bin/sh"`, `kdumpkit.crash="PANIC > /x"`, `kdumpkit.capture_initrd=`})
	want0 := DefaultConfig()
	want0.Mode, want0.Crash = "test", "BUG"
	if c != want0 {
		t.Errorf("config %+v, want %+v: only the good values taken", c, want0)
	}
}

func checkErrs(t *testing.T, errs []error, want []string) {
	t.Helper()
	if len(errs) != len(want) {
		t.Errorf("errors %v, want %d", errs, len(want))
		return
	}
	for i, w := range want {
		if !strings.Contains(errs[i].Error(), w) {
			t.Errorf("error %d = %v, want %q", i, errs[i], w)
		}
	}
}

// FuzzConfig: whatever /kdump/config and the command line say, the
// command line's words split the same once joined again, every setting
// is its default or a value from the input that is in its set, and the
// accepted settings read back the same from a config file and, when they
// hold no quote, from a command line.
func FuzzConfig(f *testing.F) {
	f.Add("# board\ncrash_cmdline=console=ttyAMA0 maxcpus=1\ntargets=9p\n", `console=ttyAMA0 kdumpkit.mode=test kdumpkit.crash=BUG kdumpkit.crash_cmdline="console=ttyS0 nr_cpus=1" quiet`)
	f.Add("targets=9p,disk:/dev/vda,dir:/mnt/x,http://tok@10.0.2.2:8123/\nmode=capture\n", `kdumpkit.targets="9p x=1" kdumpkit.mode=`)
	f.Add("crash_kernel=/kdump/kernel\ncapture_initrd=/a/../b\n", `"kdumpkit.crash=PANIC" kdumpkit.crash="A"B" a"`)
	f.Add("kexec=file\n", `kdumpkit.kexec=load kdumpkit.kexec=any`)
	f.Fuzz(func(t *testing.T, file, cmdline string) {
		words := splitCmdline(cmdline)
		if again := splitCmdline(strings.Join(words, " ")); !slices.Equal(again, words) {
			t.Fatalf("words %q joined and split again give %q", words, again)
		}
		c := DefaultConfig()
		c.Apply([]byte(file))
		c.ApplyCmdline(cmdline)
		def := DefaultConfig()
		for _, fv := range [][3]string{{"mode", c.Mode, def.Mode}, {"crash", c.Crash, def.Crash}, {"targets", c.Targets, def.Targets},
			{"crash_kernel", c.CrashKernel, def.CrashKernel}, {"capture_initrd", c.CaptureInitrd, def.CaptureInitrd}, {"crash_cmdline", c.CrashCmdline, def.CrashCmdline}, {"kexec", c.Kexec, def.Kexec}} {
			if fv[1] != fv[2] && !strings.Contains(file, fv[1]) && !strings.Contains(cmdline, fv[1]) {
				t.Fatalf("%s = %q, neither its default nor in the input", fv[0], fv[1])
			}
			if strings.ContainsFunc(fv[1], func(r rune) bool { return r < ' ' || r == 0x7f }) {
				t.Fatalf("%s = %q holds a control character", fv[0], fv[1])
			}
		}
		inSets(t, c)
		back := DefaultConfig()
		if errs := back.Apply([]byte(asFile(c))); len(errs) > 0 || back != c {
			t.Fatalf("%+v read back from its file as %+v (%v)", c, back, errs)
		}
		if strings.Contains(asFile(c), `"`) {
			return // a quote inside a quoted value cannot be written on a kernel command line
		}
		back = DefaultConfig()
		if errs := back.ApplyCmdline(asCmdline(c)); len(errs) > 0 || back != c {
			t.Fatalf("%+v read back from %q as %+v (%v)", c, asCmdline(c), back, errs)
		}
	})
}

// inSets checks each setting against its set, independently of set().
func inSets(t *testing.T, c Config) {
	t.Helper()
	if c.Mode != "normal" && c.Mode != "test" && c.Mode != "capture" {
		t.Fatalf("mode %q", c.Mode)
	}
	if c.Crash != "sysrq" && !regexp.MustCompile(`^[A-Z0-9_]+$`).MatchString(c.Crash) {
		t.Fatalf("crash %q", c.Crash)
	}
	if _, err := ParseSpecs(c.Targets); err != nil || strings.ContainsAny(c.Targets, " \t\"") {
		t.Fatalf("targets %q: %v", c.Targets, err)
	}
	for _, p := range []string{c.CrashKernel, c.CaptureInitrd} {
		if !strings.HasPrefix(p, "/") || path.Clean(p) != p {
			t.Fatalf("path %q", p)
		}
	}
	if c.Kexec != "auto" && c.Kexec != "file" && c.Kexec != "load" {
		t.Fatalf("kexec %q", c.Kexec)
	}
	if strings.Count(c.CrashCmdline, `"`)%2 != 0 {
		t.Fatalf("crash_cmdline %q has an open quote", c.CrashCmdline)
	}
}

func asFile(c Config) string {
	return fmt.Sprintf("mode=%s\ncrash=%s\ntargets=%s\ncrash_kernel=%s\ncapture_initrd=%s\ncrash_cmdline=%s\nkexec=%s\n",
		c.Mode, c.Crash, c.Targets, c.CrashKernel, c.CaptureInitrd, c.CrashCmdline, c.Kexec)
}

func asCmdline(c Config) string {
	var w []string
	for _, kv := range strings.Split(strings.TrimSpace(asFile(c)), "\n") {
		k, v, _ := strings.Cut(kv, "=")
		w = append(w, fmt.Sprintf(`kdumpkit.%s="%s"`, k, v))
	}
	return strings.Join(w, " ")
}

// TestFileCarriesKexec: the board's kexec method reaches /kdump/config
// and reads back; a board that names none writes no line.
func TestFileCarriesKexec(t *testing.T) {
	c := Config{CrashCmdline: "console=ttyAMA0", Targets: "9p", Kexec: KexecLoad}
	back := DefaultConfig()
	if errs := back.Apply([]byte(c.File("boards/arm64.toml"))); len(errs) > 0 || back.Kexec != KexecLoad || back.Targets != "9p" {
		t.Errorf("%+v (%v)", back, errs)
	}
	c.Kexec = ""
	if strings.Contains(c.File("b.toml"), "kexec") {
		t.Errorf("%q", c.File("b.toml"))
	}
	if got := TestParams("BUG", "", KexecLoad, ""); got != "kdumpkit.mode=test kdumpkit.crash=BUG kdumpkit.kexec=load" {
		t.Errorf("TestParams = %q", got)
	}
}

// TestFormatSetting: kdumpkit.format= takes elf or kdump, refuses anything
// else keeping the old value, and reaches the capture kernel's command
// line.
func TestFormatSetting(t *testing.T) {
	c := DefaultConfig()
	if c.Format != FormatELF {
		t.Errorf("default format %q", c.Format)
	}
	if errs := c.ApplyCmdline("console=ttyAMA0 kdumpkit.format=kdump"); len(errs) > 0 || c.Format != FormatKdump {
		t.Errorf("%q %v", c.Format, errs)
	}
	if errs := c.ApplyCmdline("kdumpkit.format=lzo"); len(errs) != 1 || c.Format != FormatKdump || !strings.Contains(errs[0].Error(), `format="lzo"`) {
		t.Errorf("%q %v", c.Format, errs)
	}
	if errs := c.ApplyCmdline("kdumpkit.format=kdump:32"); len(errs) != 1 || c.Format != FormatKdump {
		t.Errorf("level 32: %q %v", c.Format, errs)
	}
	if kind, level, err := ParseFormat("kdump:1"); kind != FormatKdump || level != 1 || err != nil {
		t.Errorf("kdump:1: %q %d %v", kind, level, err)
	}
	if !strings.HasSuffix(c.CaptureCmdline(), " kdumpkit.format=kdump") {
		t.Errorf("capture cmdline %q", c.CaptureCmdline())
	}
	if got := TestParams("sysrq", "", "", FormatKdump); got != "kdumpkit.mode=test kdumpkit.crash=sysrq kdumpkit.format=kdump" {
		t.Errorf("TestParams = %q", got)
	}
}
