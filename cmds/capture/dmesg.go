package main

import (
	"bytes"

	"github.com/kdumpkit/kdumpkit/analyze/arch"
	"github.com/kdumpkit/kdumpkit/analyze/dump"
	"github.com/kdumpkit/kdumpkit/analyze/printk"
)

// kernelLog reads the crashed kernel's log out of the vmcore with the
// analyzer's DWARF-free layers, and its release from VMCOREINFO.
func kernelLog(path string) ([]byte, string, error) {
	d, err := dump.Open(path)
	if err != nil {
		return nil, "", err
	}
	defer d.Close()
	m, err := arch.NewMemory(d)
	if err != nil {
		return nil, "", err
	}
	l, err := printk.Read(m, d.ByteOrder, m.Arch.PtrSize(), m.Info)
	if err != nil {
		return nil, m.Info.OSRelease(), err
	}
	var b bytes.Buffer
	l.Write(&b, false)
	return b.Bytes(), m.Info.OSRelease(), nil
}
