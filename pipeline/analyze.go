package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
)

// Analyze runs the bundled analyzer on a dump, batch and JSON, and
// collects what the comparison needs.
func Analyze(ctx context.Context, analyzer, vmlinux, vmcore string) (*Analysis, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, analyzer, "analyze", "--json", "-c", "sys; bt; ps; log", vmlinux, vmcore)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s: %w: %s", cmd, err, stderr.String())
	}
	dec := json.NewDecoder(&stdout)
	var sys struct {
		Release string `json:"release"`
		Panic   string `json:"panic"`
		PID     int    `json:"pid"`
		Command string `json:"command"`
		Offset  string `json:"kernel_offset"`
	}
	var bt []struct {
		PID    int `json:"pid"`
		Frames []struct {
			Function string `json:"function"`
		} `json:"frames"`
	}
	var ps []struct {
		PID  int    `json:"pid"`
		Comm string `json:"comm"`
	}
	var log []struct {
		Text string `json:"text"`
	}
	for _, v := range []any{&sys, &bt, &ps, &log} {
		if err := dec.Decode(v); err != nil {
			return nil, fmt.Errorf("analyzer JSON: %w (stderr: %s)", err, stderr.String())
		}
	}
	a := &Analysis{Release: sys.Release, Panic: sys.Panic, PanicPID: sys.PID, PanicComm: sys.Command, Tasks: map[int]string{}}
	if sys.Offset != "" {
		var err error
		if a.KernelOffset, err = strconv.ParseUint(strings.TrimPrefix(sys.Offset, "0x"), 16, 64); err != nil {
			return nil, fmt.Errorf("analyzer JSON: kernel_offset %q: %w", sys.Offset, err)
		}
	}
	for _, t := range bt {
		if t.PID == sys.PID {
			for _, f := range t.Frames {
				a.Frames = append(a.Frames, f.Function)
			}
		}
	}
	for _, p := range ps {
		a.Tasks[p.PID] = p.Comm
	}
	for _, r := range log {
		a.Log = append(a.Log, r.Text)
	}
	return a, nil
}
