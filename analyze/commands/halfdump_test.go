package commands

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kdumpkit/kdumpkit/internal/testdump"
)

// cutCopy copies the first part of a file (num/den of it) to a temporary
// file and returns its path.
func cutCopy(t *testing.T, path string, num, den int64) string {
	t.Helper()
	src, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	st, err := src.Stat()
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "vmcore")
	dst, err := os.Create(cut)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	if _, err := io.CopyN(dst, src, st.Size()*num/den); err != nil {
		t.Fatal(err)
	}
	return cut
}

// TestHalfDumpBacktraceUsesCrashRegisters: on the real dump cut at 50 %
// the per-CPU runqueues are gone but NT_PRSTATUS is not; bt of the panic
// task must start from the crash registers, as on the whole dump, not
// from the stale __schedule frame of its cpu_context.
func TestHalfDumpBacktraceUsesCrashRegisters(t *testing.T) {
	d := testdump.Require(t)
	whole, closeWhole, err := Open(d.Vmlinux, d.Vmcore, "", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer closeWhole()
	half, closeHalf, err := Open(d.Vmlinux, cutCopy(t, d.Vmcore, 1, 2), "", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer closeHalf()
	want := panicBT(t, whole)
	got := panicBT(t, half)
	if got.Start != "NT_PRSTATUS" || len(got.Frames) == 0 || got.Frames[0].Function != want.Frames[0].Function {
		t.Errorf("half dump: bt from %s starting at %v; the whole dump's starts at %s from %s",
			got.Start, got.Frames, want.Frames[0].Function, want.Start)
	}
	var out, errw bytes.Buffer
	half.Exec("bt", &out, &errw)
	if strings.Contains(out.String(), "__schedule") || strings.Contains(out.String(), "cpu_context") {
		t.Errorf("half dump bt shows a cpu_context stack:\n%s", out.String())
	}
}

func panicBT(t *testing.T, s *Session) BT {
	t.Helper()
	task, err := s.Current()
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Backtrace(task, false)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBTSaysWhereRegistersCameFrom: a backtrace that starts from a saved
// cpu_context says so; one from the crash registers does not need to.
func TestBTSaysWhereRegistersCameFrom(t *testing.T) {
	var out bytes.Buffer
	writeBT(&out, BT{PID: 1, Command: "init", Start: "cpu_context", Frames: []BTFrame{{Function: "__schedule"}}}, nil)
	if !strings.Contains(out.String(), "(registers from the task's saved cpu_context: not the crash registers)") {
		t.Errorf("bt from cpu_context:\n%s", out.String())
	}
	out.Reset()
	writeBT(&out, BT{PID: 1, Command: "sh", Start: "NT_PRSTATUS", Frames: []BTFrame{{Function: "sysrq_handle_crash"}}}, nil)
	if strings.Contains(out.String(), "registers from") {
		t.Errorf("bt from NT_PRSTATUS:\n%s", out.String())
	}
}
