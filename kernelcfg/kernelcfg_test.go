package kernelcfg

import (
	"bytes"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
)

func parse(t *testing.T, name, text string) *Config {
	t.Helper()
	c, err := Parse(name, strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestParse(t *testing.T) {
	c := parse(t, "x.config", `
# comment
CONFIG_A=y
CONFIG_B=m
# CONFIG_C is not set
CONFIG_S="hello world"
CONFIG_N=0x1000
`)
	for name, want := range map[string]string{"A": "y", "B": "m", "C": "n", "S": `"hello world"`, "N": "0x1000", "ABSENT": "n"} {
		if got, _ := c.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	var buf bytes.Buffer
	c.WriteTo(&buf)
	back := parse(t, "back", buf.String())
	if len(back.Entries()) != 5 {
		t.Errorf("round trip lost entries:\n%s", buf.String())
	}
}

func TestParseErrors(t *testing.T) {
	for _, text := range []string{"KEXEC=y", "CONFIG_=y", "CONFIG_A=", `CONFIG_S="open`, "CONFIG_A-B=y", "garbage"} {
		_, err := Parse("frag.config", strings.NewReader("\n"+text+"\n"))
		if !errors.Is(err, ErrSyntax) || !strings.HasPrefix(err.Error(), "frag.config:2:") {
			t.Errorf("%q: err = %v", text, err)
		}
	}
}

func TestMergeFragmentWins(t *testing.T) {
	base := parse(t, "defconfig", "CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=m\n")
	base.Merge(parse(t, "frag", "CONFIG_B=y\n# CONFIG_C is not set\nCONFIG_D=y\n"))
	for name, want := range map[string]string{"A": "y", "B": "y", "C": "n", "D": "y"} {
		if got, _ := base.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
}

func TestVerifyExplainsDependencyOff(t *testing.T) {
	k, err := ScanKconfig("testdata/tree", "arm")
	if err != nil {
		t.Fatal(err)
	}
	frag := parse(t, "kdump.config", "CONFIG_KEXEC=y\nCONFIG_CRASH_DUMP=y\nCONFIG_PROC_VMCORE=y\nCONFIG_DEBUG_INFO_DWARF4=y\nCONFIG_ARM_PV_FIXUP=y\n")
	// What olddefconfig would make of it with EXPERT and ARM_LPAE off:
	// CRASH_DUMP, and so PROC_VMCORE, and ARM_PV_FIXUP are dropped, and
	// the choice keeps its default.
	final := parse(t, ".config", "CONFIG_KEXEC=y\nCONFIG_PROC_FS=y\nCONFIG_DEBUG_INFO_NONE=y\n")
	ms := Verify(final, k, frag)
	got := map[string]string{}
	for _, m := range ms {
		got[m.Want.Name] = m.String()
	}
	if len(ms) != 4 {
		t.Fatalf("%d mismatches, want 4: %v", len(ms), got)
	}
	for name, wants := range map[string][]string{
		"CRASH_DUMP":        {"kdump.config:2 asks for y, the final .config has n", "depends on EXPERT (fs/Kconfig:15)", "in the final .config: EXPERT=n"},
		"PROC_VMCORE":       {"depends on PROC_FS (fs/Kconfig:2)", "depends on CRASH_DUMP (fs/Kconfig:6)", "PROC_FS=y CRASH_DUMP=n"},
		"DEBUG_INFO_DWARF4": {"member of choice Debug information (Kconfig:19)"},
		"ARM_PV_FIXUP":      {"if ARM_LPAE (arch/arm/Kconfig:4)"},
	} {
		for _, w := range wants {
			if !strings.Contains(got[name], w) {
				t.Errorf("%s: %q lacks %q", name, got[name], w)
			}
		}
	}
	if _, ok := k.Lookup("NOT_A_SYMBOL"); ok {
		t.Error("help text was taken for a definition")
	}
}

func TestCheckKnownNamesFragmentLine(t *testing.T) {
	k, err := ScanKconfig("testdata/tree", "arm")
	if err != nil {
		t.Fatal(err)
	}
	frag := parse(t, "boards/fragments/kdump.config", "CONFIG_KEXEC=y\n\nCONFIG_KEXCE=y\n")
	err = CheckKnown(k, frag)
	if !errors.Is(err, ErrUnknownSymbol) || !strings.Contains(err.Error(), "boards/fragments/kdump.config:3: CONFIG_KEXCE") {
		t.Errorf("err = %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_S=\"x\"\n")
	f.Add("#\n\nCONFIG_=\n")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Parse("fuzz", strings.NewReader(s))
		if err != nil {
			return
		}
		var buf bytes.Buffer
		c.WriteTo(&buf)
		back, err := Parse("back", &buf)
		if err != nil {
			t.Fatalf("written config does not parse back: %v\n%s", err, buf.String())
		}
		for _, e := range c.Entries() {
			if got, _ := back.Get(e.Name); got != e.Value {
				t.Fatalf("%s: %q became %q", e.Name, e.Value, got)
			}
		}
	})
}

func TestScanKeepsTheBoardsArchAndJoinsContinuedLines(t *testing.T) {
	arm, err := ScanKconfig("testdata/tree", "arm")
	if err != nil {
		t.Fatal(err)
	}
	kexec, _ := arm.Lookup("KEXEC")
	if want := []string{"Kconfig:6"}; !reflect.DeepEqual(kexec.Defs, want) {
		t.Errorf("KEXEC defined at %v, want %v: arch/x86 was read for an arm board", kexec.Defs, want)
	}
	after, _ := arm.Lookup("ARM_AFTER")
	if want := []string{"depends on SMP (arch/arm/Kconfig:21)"}; !reflect.DeepEqual(after.Depends, want) {
		t.Errorf("ARM_AFTER depends %q, want %q", after.Depends, want)
	}
	frag := parse(t, "x.config", "CONFIG_X86_ONLY=y\n")
	if err := CheckKnown(arm, frag); !errors.Is(err, ErrUnknownSymbol) {
		t.Errorf("an x86-only symbol passed for arm: %v", err)
	}
	all, err := ScanKconfig("testdata/tree", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckKnown(all, frag); err != nil {
		t.Errorf("all arches: %v", err)
	}
}

func TestDepSymbols(t *testing.T) {
	got := depSymbols([]string{
		"depends on (!SMP || PM_SLEEP_SMP) (arch/arm/Kconfig:1671)",
		"if RUNTIME_TESTING_MENU (lib/Kconfig.debug:2060)",
		"depends on PROC_FS (fs/Kconfig:2); depends on MMU && SMP=y && NR_CPUS > 1 (fs/Kconfig:3)",
	})
	want := []string{"SMP", "PM_SLEEP_SMP", "RUNTIME_TESTING_MENU", "PROC_FS", "MMU", "NR_CPUS"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("depSymbols = %v, want %v", got, want)
	}
}

func TestVerifyLaterFragmentWins(t *testing.T) {
	on := parse(t, "kdump.config", "CONFIG_PROC_VMCORE=y\nCONFIG_KEXEC=y\n")
	off := parse(t, "novmcore.config", "# CONFIG_PROC_VMCORE is not set\n")
	final := parse(t, ".config", "CONFIG_KEXEC=y\n# CONFIG_PROC_VMCORE is not set\n")
	if ms := Verify(final, nil, on, off); len(ms) != 0 {
		t.Errorf("mismatches %v", ms)
	}
	if ms := Verify(parse(t, ".config", "CONFIG_KEXEC=y\nCONFIG_PROC_VMCORE=y\n"), nil, on, off); len(ms) != 1 || ms[0].Want.File != "novmcore.config" {
		t.Errorf("mismatches %v", ms)
	}
}

// FuzzScan: Kconfig text of any shape is indexed without a panic, and
// every symbol found has the definition that introduced it.
func FuzzScan(f *testing.F) {
	for _, p := range []string{"testdata/tree/Kconfig", "testdata/tree/fs/Kconfig", "testdata/tree/arch/arm/Kconfig"} {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(data))
	}
	f.Add("endif\nendmenu\nconfig\nchoice\nprompt\ndepends on\n\\\n")
	f.Fuzz(func(t *testing.T, text string) {
		k := &Kconfig{syms: map[string]*Symbol{}}
		if err := k.scan("fuzz", strings.NewReader(text)); err != nil {
			return
		}
		for name, s := range k.syms {
			if len(s.Defs) == 0 {
				t.Fatalf("%q indexed with no definition", name)
			}
			depSymbols(s.Depends)
		}
	})
}
