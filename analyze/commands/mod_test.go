package commands

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// moduleELF is a minimal ARM relocatable object with a .modinfo section
// holding modinfo, as a kernel build leaves a module's .ko.
func moduleELF(t *testing.T, modinfo string, machine elf.Machine) []byte {
	t.Helper()
	shstr := "\x00.modinfo\x00.shstrtab\x00"
	infoOff := uint32(52)
	strOff := infoOff + uint32(len(modinfo))
	shOff := (strOff + uint32(len(shstr)) + 3) &^ 3
	h := elf.Header32{Type: uint16(elf.ET_REL), Machine: uint16(machine), Version: 1, Shoff: shOff,
		Ehsize: 52, Shentsize: 40, Shnum: 3, Shstrndx: 2}
	copy(h.Ident[:], elf.ELFMAG)
	h.Ident[elf.EI_CLASS], h.Ident[elf.EI_DATA], h.Ident[elf.EI_VERSION] = byte(elf.ELFCLASS32), byte(elf.ELFDATA2LSB), 1
	var b bytes.Buffer
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(binary.Write(&b, binary.LittleEndian, h))
	b.WriteString(modinfo)
	b.WriteString(shstr)
	for uint32(b.Len()) < shOff {
		b.WriteByte(0)
	}
	for _, s := range []elf.Section32{
		{},
		{Name: 1, Type: uint32(elf.SHT_PROGBITS), Flags: uint32(elf.SHF_ALLOC), Off: infoOff, Size: uint32(len(modinfo)), Addralign: 1},
		{Name: 10, Type: uint32(elf.SHT_STRTAB), Off: strOff, Size: uint32(len(shstr)), Addralign: 1},
	} {
		must(binary.Write(&b, binary.LittleEndian, s))
	}
	return b.Bytes()
}

// TestModuleObjectLookup: mod -s/-S find a module's .ko in a build tree
// ('-' and '_' alike) and take it only when it is that module, built for
// the dump's machine and release.
func TestModuleObjectLookup(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "drivers", "misc")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	good := moduleELF(t, "license=GPL\x00name=my_mod\x00vermagic=6.1.172 SMP mod_unload ARMv7 p2v8 \x00", elf.EM_ARM)
	if err := os.WriteFile(filepath.Join(sub, "my-mod.ko"), good, 0o644); err != nil {
		t.Fatal(err)
	}
	path, err := findModuleObject(dir, "my_mod")
	if err != nil || path != filepath.Join(sub, "my-mod.ko") {
		t.Fatalf("findModuleObject: %q, %v", path, err)
	}
	if _, err := findModuleObject(dir, "other"); err == nil || !strings.Contains(err.Error(), "other.ko") {
		t.Errorf("a missing module: %v", err)
	}
	if err := checkModuleObject(path, "my-mod", "6.1.172", "arm"); err != nil {
		t.Errorf("the right module: %v", err)
	}
	for _, c := range []struct{ name, release, machine, want string }{
		{"other", "6.1.172", "arm", `module "my_mod", not other`},
		{"my_mod", "6.12.1", "arm", "the dump runs 6.12.1"},
		{"my_mod", "6.1.172", "arm64", "not a module of this arm64 dump"},
	} {
		if err := checkModuleObject(path, c.name, c.release, c.machine); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v", c, err)
		}
	}
	noinfo := filepath.Join(dir, "noinfo.ko")
	if err := os.WriteFile(noinfo, moduleELF(t, "", elf.EM_ARM)[:52], 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{noinfo, "testdata/x86_64-with-symbols.so", filepath.Join(dir, "absent.ko")} {
		if err := checkModuleObject(p, "my_mod", "6.1.172", "arm"); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: %v", p, err)
		}
	}
}
