package kernel_test

import (
	"bufio"
	"crypto/sha256"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/kdumpkit/kdumpkit/analyze/arch"
	"github.com/kdumpkit/kdumpkit/analyze/kernel"
	"github.com/kdumpkit/kdumpkit/analyze/unwind"
	"github.com/kdumpkit/kdumpkit/internal/testdump"
)

// arm64Dump is the arm64 board's sysrq dump (package testdump), or the
// directory named by $KDUMPKIT_ARM64_DUMP (vmlinux, vmcore, console.log)
// for a dump made outside the test cache.
func arm64Dump(t *testing.T) (vmlinux, vmcore, console string) {
	t.Helper()
	if dir := os.Getenv("KDUMPKIT_ARM64_DUMP"); dir != "" {
		if testing.Short() {
			t.Skip("-short: no real dump")
		}
		return filepath.Join(dir, "vmlinux"), filepath.Join(dir, "vmcore"), filepath.Join(dir, "console.log")
	}
	d := testdump.RequireBoard(t, "arm64")
	return d.Vmlinux, d.Vmcore, d.Console
}

func openArm64(t *testing.T, vmlinux, vmcore string) *kernel.Program {
	t.Helper()
	p, err := kernel.Open(vmlinux, vmcore, "", func(err error) { t.Logf("warning: %v", err) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	if p.Kernel.Arch.Name() != "arm64" {
		t.Fatalf("%s is %s, want an arm64 dump", vmcore, p.Kernel.Arch.Name())
	}
	return p
}

// frameNames is a backtrace as function names, each frame named at its
// Lookup address (the call for callers, the pc for an interrupted frame).
func frameNames(t *testing.T, p *kernel.Program, task kernel.Task) ([]string, error) {
	bt, err := p.Kernel.Backtrace(task, p.Image.Unwind)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, f := range bt.Frames {
		if s, _, err := p.Kernel.Syms.At(f.Lookup); err == nil {
			names = append(names, s.Name)
		} else {
			names = append(names, fmt.Sprintf("%#x", f.PC))
		}
	}
	return names, bt.Stop
}

//go:embed testdata/drgn_oracle.py
var drgnOracle []byte

// drgnView is what testdata/drgn_oracle.py prints.
type drgnView struct {
	Panic struct {
		PID    int      `json:"pid"`
		CPU    int      `json:"cpu"`
		Frames []string `json:"frames"`
	} `json:"panic"`
	Active []struct {
		CPU    int             `json:"cpu"`
		PID    int             `json:"pid"`
		Frames json.RawMessage `json:"frames"`
	} `json:"active"`
	Tasks []struct {
		PID    int             `json:"pid"`
		Comm   string          `json:"comm"`
		Frames json.RawMessage `json:"frames"` // names, or {"error": …}
		// Stack is task->stack and StackSHA256 the sha256 of the
		// THREAD_SIZE bytes there as drgn reads them.
		Stack       uint64 `json:"stack"`
		StackSHA256 string `json:"stack_sha256"`
	} `json:"tasks"`
}

// TestArm64AgainstDrgn reads the arm64 dump with drgn 0.0.22 (Debian's
// python3-drgn, which unwinds arm64 with the vmlinux's DWARF CFI) and
// with us, and compares the panic task's backtrace, each CPU's active
// task's (bt -a), every other task's, ps's PIDs and comms, and the bytes
// of every task's vmalloc'ed stack. drgn's prog.crashed_thread() is
// not used: on SMP it takes CPU 0's NT_PRSTATUS, not the panicking CPU's,
// so the oracle takes per_cpu(runqueues, panic_cpu).curr, as we do.
func TestArm64AgainstDrgn(t *testing.T) {
	const python = "/usr/bin/python3"
	if out, err := exec.Command(python, "-c", "import drgn; print(drgn.__version__)").CombinedOutput(); err != nil {
		t.Skipf("python3-drgn is not installed (apt-get install python3-drgn), so there is no oracle: %v: %s", err, strings.TrimSpace(string(out)))
	}
	vmlinux, vmcore, _ := arm64Dump(t)
	script := filepath.Join(t.TempDir(), "drgn_oracle.py")
	if err := os.WriteFile(script, drgnOracle, 0o644); err != nil {
		t.Fatal(err)
	}
	const threadSize = 16384 // arm64 THREAD_SIZE with 4K pages (6.12's DWARF has no union thread_union)
	out, err := exec.Command(python, script, vmlinux, vmcore, strconv.Itoa(threadSize)).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("drgn: %v\n%s", err, stderr)
	}
	var want drgnView
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatalf("drgn's output: %v\n%s", err, out)
	}

	p := openArm64(t, vmlinux, vmcore)
	k := p.Kernel
	pan, err := k.PanicTask()
	if err != nil {
		t.Fatal(err)
	}
	if pan.Task.PID != want.Panic.PID || pan.CPU != want.Panic.CPU {
		t.Errorf("panic task: PID %d on CPU %d, drgn says PID %d on CPU %d", pan.Task.PID, pan.CPU, want.Panic.PID, want.Panic.CPU)
	}
	got, stop := frameNames(t, p, pan.Task)
	if stop != nil || !slices.Equal(got, want.Panic.Frames) {
		t.Errorf("panic task's backtrace (stop: %v):\n  ours %q\n  drgn %q", stop, got, want.Panic.Frames)
	}
	if len(got) < 10 {
		t.Errorf("panic backtrace of %d frames: a sysrq crash from a write(2) has more", len(got))
	}

	// bt -a: the task each CPU ran, from its NT_PRSTATUS. The other
	// CPU's note holds the registers the crash-stop IPI interrupted,
	// where drgn starts; we start at crash_save_cpu on its IRQ stack, as
	// crash does, and must agree with drgn from the exception frame on.
	act := k.ActiveTasks()
	if len(act) != len(want.Active) {
		t.Errorf("active tasks on %d CPUs, drgn finds %d", len(act), len(want.Active))
	}
	for _, w := range want.Active {
		tk, err := k.TaskByAddr(act[w.CPU])
		if err != nil || tk.PID != w.PID {
			t.Errorf("CPU %d: task %+v, %v; drgn says PID %d", w.CPU, tk, err, w.PID)
			continue
		}
		var names []string
		if err := json.Unmarshal(w.Frames, &names); err != nil {
			t.Errorf("CPU %d: drgn could not unwind PID %d: %s", w.CPU, w.PID, w.Frames)
			continue
		}
		got, stop := frameNames(t, p, tk)
		if w.CPU != pan.CPU {
			bt, err := k.Backtrace(tk, p.Image.Unwind)
			trap := slices.IndexFunc(bt.Frames, func(f unwind.Frame) bool { return f.Trap })
			if err != nil || bt.Start != "IRQ stack" || trap < 0 || got[0] != "crash_save_cpu" {
				t.Errorf("bt -a, CPU %d: starts from %q at %q (exception frame %d, %v); want crash_save_cpu on the IRQ stack", w.CPU, bt.Start, got, trap, err)
				continue
			}
			got = got[trap+1:]
		}
		if stop != nil || !slices.Equal(got, names) {
			t.Errorf("bt -a, CPU %d (stop: %v):\n  ours %q\n  drgn %q", w.CPU, stop, got, names)
		}
	}

	// ps: drgn's for_each_task leaves out the idle tasks (PID 0), which
	// are on no task list.
	tasks, warns := k.Tasks()
	for _, w := range warns {
		t.Errorf("task walk: %v", w)
	}
	ours := map[int]kernel.Task{}
	for _, tk := range tasks {
		if tk.PID != 0 {
			ours[tk.PID] = tk
		}
	}
	if len(ours) != len(want.Tasks) {
		t.Errorf("%d tasks besides the idle ones, drgn lists %d", len(ours), len(want.Tasks))
	}
	compared := 0
	for _, w := range want.Tasks {
		tk, ok := ours[w.PID]
		if !ok {
			t.Errorf("PID %d (%s): drgn lists it, ps does not", w.PID, w.Comm)
			continue
		}
		if tk.Comm != w.Comm {
			t.Errorf("PID %d: comm %q, drgn %q", w.PID, tk.Comm, w.Comm)
		}
		// Its stack, vmalloc'ed (VMAP_STACK): our page-table walk and
		// drgn's must read the same bytes.
		buf := make([]byte, threadSize)
		if tk.Stack != w.Stack {
			t.Errorf("PID %d: stack %#x, drgn %#x", w.PID, tk.Stack, w.Stack)
		} else if err := k.Mem.ReadVirt(tk.Stack, buf); err != nil {
			t.Errorf("PID %d: stack %#x: %v", w.PID, tk.Stack, err)
		} else if sum := fmt.Sprintf("%x", sha256.Sum256(buf)); sum != w.StackSHA256 {
			t.Errorf("PID %d: stack %#x reads sha256 %s, drgn %s", w.PID, tk.Stack, sum, w.StackSHA256)
		}
		var names []string
		if json.Unmarshal(w.Frames, &names) != nil {
			t.Logf("PID %d: drgn could not unwind it: %s", w.PID, w.Frames)
			continue
		}
		got, stop := frameNames(t, p, tk)
		if stop != nil || !slices.Equal(got, names) {
			t.Errorf("PID %d (%s) backtrace (stop: %v):\n  ours %q\n  drgn %q", w.PID, w.Comm, stop, got, names)
		}
		compared++
	}
	t.Logf("panic task PID %d: %d frames as drgn's; bt -a on %d CPUs and %d tasks' PIDs, comms and backtraces as drgn's",
		pan.Task.PID, len(got), len(want.Active), compared)
}

// TestArm64BacktraceMatchesConsole compares the panic task's backtrace
// with the "Call trace:" the crashing kernel printed (dump_stack in
// panic), from panic down. Where the console names "F+0x0" — a return
// address just past a call to a noreturn function (panic), which lands on
// the next function's first instruction — we must name the function
// before it, which made the call.
func TestArm64BacktraceMatchesConsole(t *testing.T) {
	vmlinux, vmcore, console := arm64Dump(t)
	trace := consoleTrace(t, console)
	i := slices.IndexFunc(trace, func(e traceEntry) bool { return e.fn == "panic" })
	if i < 0 {
		t.Fatalf("console trace %v has no panic frame", trace)
	}
	trace = trace[i:]
	p := openArm64(t, vmlinux, vmcore)
	pan, err := p.Kernel.PanicTask()
	if err != nil {
		t.Fatal(err)
	}
	got, stop := frameNames(t, p, pan.Task)
	if stop != nil {
		t.Errorf("walk stopped: %v", stop)
	}
	j := slices.Index(got, "panic")
	if j < 0 {
		t.Fatalf("our backtrace %q has no panic frame", got)
	}
	got = got[j:]
	var want []string
	for _, e := range trace {
		name := e.fn
		if e.off == 0 { // named after the function the call fell off the end of
			addr, err := p.Kernel.Syms.Addr(e.fn)
			if err != nil {
				t.Fatal(err)
			}
			s, _, err := p.Kernel.Syms.At(addr - 4)
			if err != nil {
				t.Fatal(err)
			}
			name = s.Name
		}
		want = append(want, name)
	}
	if !slices.Equal(got, want) {
		t.Errorf("from panic down:\n  ours    %q\n  console %q", got, want)
	}
}

type traceEntry struct {
	fn  string
	off uint64
}

// consoleTrace reads the first "Call trace:" of the console log: lines
// "[ time]  function+0xoff/0xsize".
func consoleTrace(t *testing.T, path string) []traceEntry {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	line := regexp.MustCompile(`^\[[ 0-9.]+\]  ([\w.]+)\+0x([0-9a-f]+)/0x[0-9a-f]+`)
	var out []traceEntry
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := strings.TrimRight(sc.Text(), "\r")
		if strings.HasSuffix(l, "Call trace:") {
			if out != nil {
				break
			}
			in = true
			continue
		}
		if !in {
			continue
		}
		m := line.FindStringSubmatch(l)
		if m == nil {
			break
		}
		off, _ := strconv.ParseUint(m[2], 16, 64)
		out = append(out, traceEntry{m[1], off})
	}
	if len(out) == 0 {
		t.Fatalf("%s: no Call trace", path)
	}
	return out
}

// irqWalk is an unwind.Context for a walk that starts on a CPU's IRQ
// stack: the kernel's memory and arch, the IRQ stack and the task stack.
type irqWalk struct {
	*kernel.Kernel
	stacks []unwind.Stack
}

func (w irqWalk) DumpArch() arch.Arch    { return w.Kernel.Arch }
func (w irqWalk) Stacks() []unwind.Stack { return w.stacks }

// TestArm64ExceptionFrameOnIRQStack walks real frames across an IRQ: the
// CPU the panic stopped took the crash-stop IPI in its idle loop, and
// its NT_PRSTATUS holds the registers that IPI interrupted, which are the
// pt_regs __irq_regs points to. Its IRQ stack still holds the handler's
// frame records; from each record there whose chain reaches that pt_regs
// — the IRQ stack to the task stack at call_on_irq_stack, then
// el1h_64_irq's record inside the pt_regs — the walk must mark
// el1h_64_irq as the exception frame with SP at the pt_regs, go on with
// the pt_regs' registers and name the interrupted frame at its pc, then
// agree frame by frame with bt of that CPU after its exception frame.
func TestArm64ExceptionFrameOnIRQStack(t *testing.T) {
	vmlinux, vmcore, _ := arm64Dump(t)
	p := openArm64(t, vmlinux, vmcore)
	k := p.Kernel
	pan, err := k.PanicTask()
	if err != nil {
		t.Fatal(err)
	}
	var cpu kernel.CPUState
	for _, c := range k.CPUs {
		if c.CPU != pan.CPU {
			cpu = c
		}
	}
	if cpu.Regs == nil {
		t.Skip("a dump of one CPU: no CPU was stopped by the crash IPI")
	}
	regsVar, err := k.PerCPU("__irq_regs", cpu.CPU)
	if err != nil {
		t.Fatal(err)
	}
	ptRegs, err := k.ReadPtr(regsVar)
	if err != nil || ptRegs == 0 {
		t.Fatalf("__irq_regs of CPU %d: %#x, %v", cpu.CPU, ptRegs, err)
	}
	for i, r := range cpu.Regs {
		if v, err := k.ReadUint(ptRegs+uint64(8*i), 8); err != nil || v != r {
			t.Fatalf("CPU %d's note is not the pt_regs at %#x (register %d: %#x, note %#x, %v)", cpu.CPU, ptRegs, i, v, r, err)
		}
	}
	task, err := k.TaskByAddr(k.ActiveTasks()[cpu.CPU])
	if err != nil {
		t.Fatal(err)
	}
	// bt of that CPU, after its exception frame: the frames the note's
	// registers unwind to.
	btNames, stop := frameNames(t, p, task)
	bt, err := k.Backtrace(task, p.Image.Unwind)
	if stop != nil || err != nil {
		t.Fatalf("bt of CPU %d: %v, %v", cpu.CPU, stop, err)
	}
	btTrap := slices.IndexFunc(bt.Frames, func(f unwind.Frame) bool { return f.Trap })
	if btTrap < 0 {
		t.Fatalf("bt of CPU %d has no exception frame: %q", cpu.CPU, btNames)
	}
	noteBT := btNames[btTrap+1:]
	irqVar, err := k.PerCPU("irq_stack_ptr", cpu.CPU)
	if err != nil {
		t.Fatal(err)
	}
	irq, err := k.ReadPtr(irqVar)
	if err != nil {
		t.Fatal(err)
	}
	const size = 16384 // IRQ_STACK_SIZE = THREAD_SIZE
	stacks := []unwind.Stack{{Name: "IRQ", Low: irq, High: irq + size}, {Name: "task", Low: task.Stack, High: task.Stack + size}}
	found := 0
	for rec := irq; rec < irq+size-16; rec += 16 {
		lr, err := k.ReadUint(rec+8, 8)
		if err != nil || lr>>48 != 0xffff {
			continue
		}
		fp, _ := k.ReadUint(rec, 8)
		regs := make([]uint64, 34) // the function rec returns into, at its call
		regs[29], regs[31], regs[32] = fp, rec+16, lr
		frames, err := p.Image.Unwind.Walk(regs, true, irqWalk{k, stacks}, 64)
		trap := slices.IndexFunc(frames, func(f unwind.Frame) bool { return f.Trap })
		if !unwind.IsEnd(err) || trap < 0 || frames[trap].SP != ptRegs {
			continue // a stale record, or one off this IRQ's chain
		}
		found++
		var names []string
		for _, f := range frames {
			s, _, err := k.Syms.At(f.Lookup)
			if err != nil {
				t.Fatalf("record %#x: frame at %#x has no symbol", rec, f.PC)
			}
			names = append(names, s.Name)
		}
		if names[trap] != "el1h_64_irq" || !slices.Contains(names[:trap], "call_on_irq_stack") {
			t.Errorf("record %#x: %q: want call_on_irq_stack before el1h_64_irq", rec, names)
		}
		if found == 1 && !slices.Contains(names[:trap], "gic_handle_irq") {
			t.Errorf("deepest record %#x: %q: want the IRQ handler gic_handle_irq", rec, names)
		}
		next := frames[trap+1]
		if next.PC != cpu.Regs[32] || next.Lookup != next.PC || !slices.Equal(next.Regs, cpu.Regs) {
			t.Errorf("record %#x: interrupted frame pc %#x lookup %#x, want the note's pc %#x named at itself with the note's registers", rec, next.PC, next.Lookup, cpu.Regs[32])
		}
		if !slices.Equal(names[trap+1:], noteBT) {
			t.Errorf("record %#x: after the exception %q, bt from the note %q", rec, names[trap+1:], noteBT)
		}
		if found == 1 {
			t.Logf("CPU %d, from IRQ-stack record %#x: %q", cpu.CPU, rec, names)
		}
	}
	if found == 0 {
		t.Fatalf("no frame record on CPU %d's IRQ stack %#x leads to the pt_regs at %#x", cpu.CPU, irq, ptRegs)
	}
}
