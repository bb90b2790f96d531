package kernel

import "fmt"

// Module is one loaded kernel module.
type Module struct {
	Addr       uint64 // the struct module
	Name       string
	Base, Size uint64 // its core text and data (core_layout, 6.1)
}

// Modules walks the modules list (struct module.list). The core's base
// and size come from core_layout (up to 6.3) or mem[MOD_TEXT] (6.4+).
func (k *Kernel) Modules() ([]Module, error) {
	head, err := k.symbol("modules")
	if err != nil {
		return nil, err
	}
	listOff, err := k.off("struct module", "list")
	if err != nil {
		return nil, err
	}
	nameOff, err := k.off("struct module", "name")
	if err != nil {
		return nil, err
	}
	nodes, walkErr := k.walkList(head)
	var out []Module
	for _, n := range nodes {
		m := Module{Addr: n - uint64(listOff)}
		if m.Name, err = k.ReadString(m.Addr+uint64(nameOff), 56); err != nil {
			return out, fmt.Errorf("module %#x name: %w", m.Addr, err)
		}
		if b, err := k.field(m.Addr, "struct module", "core_layout.base"); err == nil {
			m.Base = b
			m.Size, _ = k.field(m.Addr, "struct module", "core_layout.size")
		} else if b, err := k.field(m.Addr, "struct module", "mem[0].base"); err == nil {
			m.Base = b
			m.Size, _ = k.field(m.Addr, "struct module", "mem[0].size")
		}
		out = append(out, m)
	}
	if walkErr != nil {
		return out, fmt.Errorf("modules list: %w", walkErr)
	}
	return out, nil
}
