package commands

import (
	"bytes"
	"encoding/binary"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kdumpkit/kdumpkit/analyze/kernel"
)

// patchedCore overlays 32-bit words on the reference dump (fault injection).
type patchedCore struct {
	*kernel.Vmcore
	words map[uint64]uint32
}

func (p patchedCore) ReadVirt(addr uint64, buf []byte) error {
	if err := p.Vmcore.ReadVirt(addr, buf); err != nil {
		return err
	}
	for a, w := range p.words {
		if a >= addr && a+4 <= addr+uint64(len(buf)) {
			binary.LittleEndian.PutUint32(buf[a-addr:], w)
		}
	}
	return nil
}

// TestReferenceTaskListLoop makes PID 10's tasks.next point back at PID 5:
// ps must list what it found up to the loop and warn, not hang or panic.
func TestReferenceTaskListLoop(t *testing.T) {
	good, dir := openReference(t)
	var t5, t10 uint64
	tasks, _ := good.Kernel.Tasks()
	for _, tk := range tasks {
		switch tk.PID {
		case 5:
			t5 = tk.Addr
		case 10:
			t10 = tk.Addr
		}
	}
	off, err := good.Kernel.Types.Offset("struct task_struct", "tasks")
	if err != nil || t5 == 0 || t10 == 0 {
		t.Fatalf("setup: %v %#x %#x", err, t5, t10)
	}
	core := openVmcore(t, filepath.Join(dir, "vmcore"))
	bad := patchedCore{core, map[uint64]uint32{t10 + uint64(off): uint32(t5 + uint64(off))}}
	img, err := kernel.LoadImage(filepath.Join(dir, "vmlinux"), "", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	var warn bytes.Buffer
	s, err := NewSession(img, bad, nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	s.Warn = &warn
	var out, errw bytes.Buffer
	if err := s.Exec("ps", &out, &errw); err != nil {
		t.Fatalf("ps on a looping list: %v %s", err, errw.String())
	}
	if !strings.Contains(warn.String(), "visited twice") {
		t.Errorf("no loop warning; warnings:\n%s", warn.String())
	}
	if !strings.Contains(out.String(), "[ksoftirqd/0]") || strings.Contains(out.String(), "[rcu_sched]") {
		t.Errorf("want tasks up to PID 10 and none after the loop:\n%s", out.String())
	}
}
