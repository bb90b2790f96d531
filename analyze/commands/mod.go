package commands

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/kdumpkit/kdumpkit/analyze/escape"
	"github.com/kdumpkit/kdumpkit/analyze/kernel"
)

// mod is crash's mod: the loaded modules, or crash's "no modules
// installed". "mod -s MODULE [objfile]" and "mod -S [dir]" find each
// module's object file (MODULE.ko) — given, or searched for under dir:
// the kernel build tree the vmlinux sits in by default — check that it
// is that module built for this kernel (an ELF relocatable object of the
// dump's machine whose .modinfo names the module and whose vermagic
// starts with the dump's release) and show it in mod's OBJECT FILE
// column. The object's DWARF is not merged into the session's types.
func (s *Session) mod(w io.Writer, args []string) error {
	usage := fmt.Errorf("mod [-s module [objfile] | -S [directory]]: %w", ErrUsage)
	if err := s.needTypes("mod"); err != nil {
		return err
	}
	var load, objArg string
	all := false
	switch {
	case len(args) == 1:
	case args[1] == "-s" && (len(args) == 3 || len(args) == 4):
		load = args[2]
		if len(args) == 4 {
			objArg = args[3]
		}
	case args[1] == "-S" && len(args) <= 3:
		all = true
		if len(args) == 3 {
			objArg = args[2]
		}
	case args[1] == "-s" || args[1] == "-S":
		return usage
	case strings.HasPrefix(args[1], "-"):
		return fmt.Errorf("mod: option %s not supported: %w", args[1], ErrUsage)
	default:
		return usage
	}
	mods, err := s.Kernel.Modules()
	if len(mods) == 0 && err == nil {
		if load != "" {
			return fmt.Errorf("mod -s: no module %s loaded (no modules installed)", load)
		}
		fmt.Fprintln(w, "no modules installed")
		return nil
	}
	if load != "" || all {
		if err := s.loadModuleObjects(mods, load, objArg); err != nil {
			return err
		}
	}
	digits := 2 * s.Kernel.PtrSize
	fmt.Fprintf(w, "%s  %-20s %s  %8s  OBJECT FILE\n", centre("MODULE", digits), "NAME", centre("BASE", digits), "SIZE")
	for _, m := range mods {
		obj := "(not loaded)"
		if p, ok := s.moduleObjects[m.Name]; ok {
			obj = escape.Text(p)
		}
		fmt.Fprintf(w, "%0*x  %-20s %0*x  %8d  %s\n", digits, m.Addr, escape.Text(m.Name), digits, m.Base, m.Size, obj)
	}
	if err != nil {
		return fmt.Errorf("mod: %w", err)
	}
	return nil
}

// loadModuleObjects is mod -s (one module; objArg its object file or
// "") and mod -S (every module; objArg the directory or "").
func (s *Session) loadModuleObjects(mods []kernel.Module, one, objArg string) error {
	uts, err := s.Kernel.UTSName()
	if err != nil {
		return fmt.Errorf("mod: the dump's release: %w", err)
	}
	release := s.Kernel.Release(uts)
	dir := objArg
	if dir == "" || one != "" {
		dir = filepath.Dir(s.KernelPath)
	}
	found := false
	for _, m := range mods {
		if one != "" && m.Name != one {
			continue
		}
		found = true
		path := objArg
		if one == "" || path == "" {
			if path, err = findModuleObject(dir, m.Name); err != nil {
				if one == "" {
					continue // mod -S loads what it finds
				}
				return fmt.Errorf("mod -s: %w", err)
			}
		}
		if err := checkModuleObject(path, m.Name, release, s.Machine); err != nil {
			return fmt.Errorf("mod: %w", err)
		}
		if s.moduleObjects == nil {
			s.moduleObjects = map[string]string{}
		}
		s.moduleObjects[m.Name] = path
	}
	if !found {
		return fmt.Errorf("mod -s: no module %s loaded", one)
	}
	return nil
}

// maxModuleSearch bounds findModuleObject's walk: a build tree has some
// 70,000 files; a directory far larger is not one.
const maxModuleSearch = 1 << 20

// findModuleObject looks for name.ko under dir and its subdirectories,
// as a kernel build tree and /lib/modules/RELEASE hold them; '-' and '_'
// in the name are one, as the module loader treats them.
func findModuleObject(dir, name string) (string, error) {
	want := strings.ReplaceAll(name, "-", "_") + ".ko"
	var found string
	n := 0
	errFound := errors.New("found")
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // an unreadable corner of the tree
		}
		if n++; n > maxModuleSearch {
			return fmt.Errorf("more than %d files under %s", maxModuleSearch, dir)
		}
		if !d.IsDir() && strings.ReplaceAll(d.Name(), "-", "_") == want {
			found = path
			return errFound
		}
		return nil
	})
	switch {
	case found != "":
		return found, nil
	case err != nil && !errors.Is(err, errFound):
		return "", fmt.Errorf("looking for %s: %w", want, err)
	}
	return "", fmt.Errorf("no %s under %s", want, dir)
}

// elfMachines maps the analyzer's arch names to ELF machines.
var elfMachines = map[string]elf.Machine{"arm": elf.EM_ARM, "arm64": elf.EM_AARCH64, "x86_64": elf.EM_X86_64}

// checkModuleObject checks that path is module name built for the dump:
// an ELF relocatable object (ET_REL) of the dump's machine whose
// .modinfo says name=NAME (or, without that line, whose file name is
// NAME.ko) and whose vermagic is the dump's release.
func checkModuleObject(path, name, release, machine string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer f.Close()
	if want, ok := elfMachines[machine]; f.Type != elf.ET_REL || ok && f.Machine != want {
		return fmt.Errorf("%s: a %s %s file, not a module of this %s dump", path, f.Machine, f.Type, machine)
	}
	sec := f.Section(".modinfo")
	if sec == nil {
		return fmt.Errorf("%s: no .modinfo section: not a kernel module", path)
	}
	info, err := sec.Data()
	if err != nil {
		return fmt.Errorf("%s: .modinfo: %w", path, err)
	}
	fields := map[string]string{}
	for _, kv := range bytes.Split(info, []byte{0}) {
		if k, v, ok := strings.Cut(string(kv), "="); ok {
			fields[k] = v
		}
	}
	same := func(a, b string) bool { return strings.ReplaceAll(a, "-", "_") == strings.ReplaceAll(b, "-", "_") }
	if n, ok := fields["name"]; ok && !same(n, name) || !ok && !same(strings.TrimSuffix(filepath.Base(path), ".ko"), name) {
		return fmt.Errorf("%s: module %q, not %s", path, fields["name"], name)
	}
	if vm := strings.Fields(fields["vermagic"]); release != "" && (len(vm) == 0 || vm[0] != release) {
		return fmt.Errorf("%s: vermagic %q, the dump runs %s", path, fields["vermagic"], release)
	}
	return nil
}
