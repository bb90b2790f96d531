package main

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/kdumpkit/kdumpkit/analyze/dump"
	"github.com/kdumpkit/kdumpkit/analyze/kernel"
	"github.com/kdumpkit/kdumpkit/diskdump"
	"github.com/kdumpkit/kdumpkit/internal/crashoracle"
	"github.com/kdumpkit/kdumpkit/internal/testdump"
)

// The independent readers of a kdump-compressed file beside us: drgn
// 0.0.22 through libkdumpfile, and crash 8.0.2's arm64 build under
// qemu-aarch64-static. Each is given the file Debian's makedumpfile
// wrote, and drgn also the one dump-convert writes (the capture tool's
// code, package dumpconv), and must read there what the analyzer reads.

//go:embed testdata/drgn_view.py
var drgnViewScript []byte

// arm64ThreadSize is arm64's THREAD_SIZE with 4K pages (6.12's DWARF has
// no union thread_union to take it from).
const arm64ThreadSize = 16384

// dumpView is what one reader finds in a dump: the fields of
// testdata/drgn_view.py's JSON. Strings that may hold any byte (comm, log
// text) are hex.
type dumpView struct {
	UTS   map[string]string `json:"uts"`
	Panic string            `json:"panic"`
	Log   []struct {
		Seq   uint64 `json:"seq"`
		TS    uint64 `json:"ts"`
		Level int    `json:"level"`
		Text  string `json:"text"`
	} `json:"log"`
	Tasks []taskView `json:"tasks"`
	Phys  []physWord `json:"phys"`
}

type taskView struct {
	Addr uint64 `json:"addr"`
	PID  int    `json:"pid"`
	Comm string `json:"comm"`
	// State is ps(1)'s letter, as the kernel's task_state_index and
	// drgn's task_state_to_char give it.
	State     string   `json:"state"`
	RawState  uint64   `json:"raw_state"`
	ExitState uint64   `json:"exit_state"`
	Stack     uint64   `json:"stack"`
	SP        uint64   `json:"sp"` // thread.cpu_context.sp: where it last switched out
	SPWords   []uint64 `json:"sp_words"`
	TopWords  []uint64 `json:"top_words"` // the last 8 words of its THREAD_SIZE stack
}

type physWord struct {
	Addr     uint64 `json:"addr"`
	Word     uint64 `json:"word"`
	Excluded bool   `json:"excluded"`
	Error    string `json:"error"`
}

// psLetter is crash's two-letter state (Task.StateName) as ps(1)'s letter.
var psLetter = map[string]string{"RU": "R", "IN": "S", "UN": "D", "ID": "I", "ST": "T", "TR": "t", "ZO": "Z", "DE": "X", "PA": "P"}

// TestOraclesReadMakedumpfilesFile: Debian's makedumpfile 1.7.2 (arm64,
// under qemu-aarch64-static) writes the arm64 test dump at level 31 with
// zlib, and drgn and crash each read that file as the analyzer does:
// utsname, the panic message, every task's address, PID, comm and state,
// every kernel log record, the words at each task's saved stack pointer
// and at the top of its stack (read through the page tables: the stacks
// are vmalloc'ed), and a word of a sample of the pages the file holds,
// read physically, beside a sample of pages it left out, which every
// reader must refuse. drgn then reads dump-convert's level-31 zstd file
// of the same dump and must find the same. Each oracle's subtest skips,
// saying how to install it, where it is missing. (makedumpfile 1.7.2
// says "The kernel version is not supported" of 6.12 and filters by
// VMCOREINFO all the same: TestMakedumpfileInterop checks it keeps the
// pages dump-convert keeps. Debian 12's libkdumpfile 0.5.1 reads zstd.)
func TestOraclesReadMakedumpfilesFile(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: needs the arm64 test dump")
	}
	root, qemu, err := makedumpfileARM64()
	if err != nil {
		t.Skip(err)
	}
	// Found before XDG_CACHE_HOME moves: it is looked for in the cache.
	crash, crashErr := crashoracle.Find("arm64")
	d := testdump.RequireBoard(t, "arm64")
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	dir := t.TempDir()
	theirs := filepath.Join(dir, "vmcore.makedumpfile")
	cmd := exec.Command(qemu, "-L", root, filepath.Join(root, "usr/bin/makedumpfile"), "-c", "-d", "31", d.Vmcore, theirs)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("makedumpfile: %v\n%s", err, out)
	}
	if k := openKdump(t, theirs); k.Header.Status&diskdump.CompressZlib == 0 || k.Sub.DumpLevel != 31 {
		t.Fatalf("makedumpfile -c -d 31 wrote status %#x, level %d: want zlib at 31", k.Header.Status, k.Sub.DumpLevel)
	}
	phys := physSample(t, theirs)
	p, err := kernel.Open(d.Vmlinux, theirs, "", func(err error) { t.Logf("warning: %v", err) })
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ours := analyzerView(t, p, phys)

	t.Run("drgn", func(t *testing.T) {
		drgn := drgnView(t, d.Vmlinux, theirs, phys)
		n := compareViews(t, "drgn", ours, drgn)
		t.Logf("drgn 0.0.22 (libkdumpfile) on makedumpfile's file agrees with the analyzer on %s", n)
	})
	t.Run("drgn reads dump-convert's zstd file", func(t *testing.T) {
		conv := filepath.Join(dir, "vmcore.kdumpkit.zstd")
		if err := runDumpConvert([]string{"-d", "31", "-c", "zstd", d.Vmcore, conv}, nil, io.Discard, io.Discard); err != nil {
			t.Fatal(err)
		}
		if c := openKdump(t, conv).Header.Status; c&diskdump.CompressZstd == 0 {
			t.Fatalf("dump-convert -c zstd wrote status %#x: no zstd flag", c)
		}
		// The same pages as makedumpfile's (TestMakedumpfileInterop), so
		// the same answers, excluded pages included.
		drgn := drgnView(t, d.Vmlinux, conv, phys)
		n := compareViews(t, "drgn on dump-convert's zstd file", ours, drgn)
		t.Logf("drgn reads dump-convert's level-31 zstd file as the analyzer reads makedumpfile's: %s", n)
	})
	t.Run("crash", func(t *testing.T) {
		if errors.Is(crashErr, crashoracle.ErrMissing) {
			t.Skip(crashErr)
		}
		if crashErr != nil {
			t.Fatal(crashErr)
		}
		crashCompare(t, crash, d.Vmlinux, theirs, ours)
	})
}

func openKdump(t *testing.T, path string) *diskdump.File {
	t.Helper()
	f, err := dump.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	k := f.Kdump()
	if k == nil {
		t.Fatalf("%s is not kdump-compressed", path)
	}
	return k
}

// physSample picks a word in every 200th page the kdump-compressed file
// holds, at an offset that moves from page to page, and the first word
// of every 10000th RAM page it left out.
func physSample(t *testing.T, path string) []uint64 {
	k := openKdump(t, path)
	const pageSize = 4096
	var out []uint64
	n := uint64(0)
	for pfn, ok := k.Dumped.Next(0); ok; pfn, ok = k.Dumped.Next(pfn + 1) {
		if n%200 == 0 {
			out = append(out, (pfn+k.PFNOffset)*pageSize+(n*8*7)%pageSize)
		}
		n++
	}
	kept := len(out)
	n = 0
	for pfn, ok := k.Present.Next(0); ok; pfn, ok = k.Present.Next(pfn + 1) {
		if !k.Dumped.Test(pfn) {
			if n%10000 == 0 {
				out = append(out, (pfn+k.PFNOffset)*pageSize)
			}
			n++
		}
	}
	if kept < 20 || len(out)-kept < 5 {
		t.Fatalf("%s: a sample of %d kept and %d excluded pages is too small to say anything", path, kept, len(out)-kept)
	}
	return out
}

// analyzerView is what the analyzer reads in p, in drgn_view.py's terms.
func analyzerView(t *testing.T, p *kernel.Program, phys []uint64) dumpView {
	t.Helper()
	k := p.Kernel
	var v dumpView
	uts, err := k.UTSName()
	if err != nil {
		t.Fatal(err)
	}
	v.UTS = map[string]string{"sysname": uts.Sysname, "nodename": uts.Nodename, "release": uts.Release, "version": uts.Version, "machine": uts.Machine}
	recs, err := p.Log()
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, r := range recs {
		v.Log = append(v.Log, struct {
			Seq   uint64 `json:"seq"`
			TS    uint64 `json:"ts"`
			Level int    `json:"level"`
			Text  string `json:"text"`
		}{r.Seq, r.TimeNS, r.Level, hex.EncodeToString([]byte(r.Text))})
		texts = append(texts, r.Text)
	}
	v.Panic = kernel.PanicMessage(texts)
	tasks, warns := k.Tasks()
	for _, w := range warns {
		t.Errorf("task walk: %v", w)
	}
	spOff, err := k.Types.Offset("struct task_struct", "thread.cpu_context.sp")
	if err != nil {
		t.Fatal(err)
	}
	words := func(addr uint64) []uint64 {
		buf := make([]byte, 64)
		if err := k.Mem.ReadVirt(addr, buf); err != nil {
			t.Errorf("%#x: %v", addr, err)
			return nil
		}
		w := make([]uint64, 8)
		for i := range w {
			w[i] = k.Uint(buf[8*i:], 8)
		}
		return w
	}
	for _, tk := range tasks {
		sp, err := k.ReadUint(tk.Addr+uint64(spOff), 8)
		if err != nil {
			t.Errorf("PID %d: saved sp: %v", tk.PID, err)
		}
		v.Tasks = append(v.Tasks, taskView{
			Addr: tk.Addr, PID: tk.PID, Comm: hex.EncodeToString([]byte(tk.Comm)),
			State: psLetter[tk.StateName()], RawState: tk.State, ExitState: tk.ExitState,
			Stack: tk.Stack, SP: sp, SPWords: words(sp), TopWords: words(tk.Stack + arm64ThreadSize - 64),
		})
	}
	for _, pa := range phys {
		buf := make([]byte, 8)
		switch err := k.ReadPhys(pa, buf); {
		case errors.Is(err, dump.ErrExcluded):
			v.Phys = append(v.Phys, physWord{Addr: pa, Excluded: true, Error: err.Error()})
		case err != nil:
			t.Errorf("physical %#x: %v", pa, err)
		default:
			v.Phys = append(v.Phys, physWord{Addr: pa, Word: k.Uint(buf, 8)})
		}
	}
	return v
}

// drgnView runs testdata/drgn_view.py on vmcore with Debian's python3,
// where python3-drgn lives (not a pyenv python3 on PATH). It skips t
// where drgn or its libkdumpfile is missing.
func drgnView(t *testing.T, vmlinux, vmcore string, phys []uint64) dumpView {
	t.Helper()
	const python = "/usr/bin/python3"
	out, err := exec.Command(python, "-c", "import drgn; print(drgn._with_libkdumpfile)").CombinedOutput()
	if err != nil {
		t.Skipf("python3-drgn is not installed (apt-get install python3-drgn), so there is no oracle: %v: %s", err, bytes.TrimSpace(out))
	}
	if strings.TrimSpace(string(out)) != "True" {
		t.Skip("this drgn is built without libkdumpfile, so it cannot read kdump-compressed files (Debian's python3-drgn has it: apt-get install python3-drgn libkdumpfile10)")
	}
	script := filepath.Join(t.TempDir(), "drgn_view.py")
	if err := os.WriteFile(script, drgnViewScript, 0o644); err != nil {
		t.Fatal(err)
	}
	in, _ := json.Marshal(phys)
	cmd := exec.Command(python, script, vmlinux, vmcore, strconv.Itoa(arm64ThreadSize))
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err = cmd.Output()
	if err != nil {
		t.Fatalf("drgn on %s: %v\n%s", vmcore, err, stderr.String())
	}
	var v dumpView
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("drgn's output: %v\n%.2000s", err, out)
	}
	return v
}

// compareViews reports every difference between the analyzer's view and
// an oracle's, and says how much was compared.
func compareViews(t *testing.T, who string, ours, theirs dumpView) string {
	t.Helper()
	for _, f := range []string{"sysname", "nodename", "release", "version", "machine"} {
		if ours.UTS[f] != theirs.UTS[f] || ours.UTS[f] == "" && f != "nodename" {
			t.Errorf("utsname %s: ours %q, %s %q", f, ours.UTS[f], who, theirs.UTS[f])
		}
	}
	// Both take the message from the log's "Kernel panic - not syncing: "
	// line, as crash does: no variable holds it.
	if ours.Panic == "" || ours.Panic != theirs.Panic {
		t.Errorf("panic message: ours %q, %s %q", ours.Panic, who, theirs.Panic)
	}
	if len(ours.Log) != len(theirs.Log) || len(ours.Log) < 50 {
		t.Errorf("kernel log: ours %d records, %s %d", len(ours.Log), who, len(theirs.Log))
	}
	for i := range min(len(ours.Log), len(theirs.Log)) {
		if a, b := ours.Log[i], theirs.Log[i]; a != b {
			t.Errorf("log record %d: ours %d [%d] <%d> %q, %s %d [%d] <%d> %q", i, a.Seq, a.TS, a.Level, unhex(a.Text), who, b.Seq, b.TS, b.Level, unhex(b.Text))
		}
	}
	byAddr := map[uint64]taskView{}
	for _, tk := range theirs.Tasks {
		byAddr[tk.Addr] = tk
	}
	words := 0
	for _, a := range ours.Tasks {
		b, ok := byAddr[a.Addr]
		if !ok {
			t.Errorf("task %#x (PID %d, %s): %s does not find it", a.Addr, a.PID, unhex(a.Comm), who)
			continue
		}
		delete(byAddr, a.Addr)
		if a.PID != b.PID || a.Comm != b.Comm || a.State != b.State || a.RawState != b.RawState || a.ExitState != b.ExitState || a.Stack != b.Stack || a.SP != b.SP {
			t.Errorf("task %#x: ours PID %d %q state %s (%#x, exit %#x) stack %#x sp %#x; %s PID %d %q state %s (%#x, exit %#x) stack %#x sp %#x",
				a.Addr, a.PID, unhex(a.Comm), a.State, a.RawState, a.ExitState, a.Stack, a.SP,
				who, b.PID, unhex(b.Comm), b.State, b.RawState, b.ExitState, b.Stack, b.SP)
		}
		if !slices.Equal(a.SPWords, b.SPWords) || !slices.Equal(a.TopWords, b.TopWords) || len(a.SPWords) != 8 || len(a.TopWords) != 8 {
			t.Errorf("PID %d's stack words: ours at sp %#x, top %#x; %s %#x, %#x", a.PID, a.SPWords, a.TopWords, who, b.SPWords, b.TopWords)
		}
		words += len(a.SPWords) + len(a.TopWords)
	}
	for _, b := range byAddr {
		t.Errorf("task %#x (PID %d, %s): %s finds it, we do not", b.Addr, b.PID, unhex(b.Comm), who)
	}
	if len(ours.Tasks) < 20 {
		t.Errorf("only %d tasks", len(ours.Tasks))
	}
	if len(ours.Phys) != len(theirs.Phys) {
		t.Fatalf("physical words: ours %d, %s %d", len(ours.Phys), who, len(theirs.Phys))
	}
	excluded := 0
	for i, a := range ours.Phys {
		b := theirs.Phys[i]
		if a.Addr != b.Addr || a.Excluded != b.Excluded || a.Word != b.Word {
			t.Errorf("physical %#x: ours %#x (excluded %v: %s), %s at %#x %#x (excluded %v: %s)", a.Addr, a.Word, a.Excluded, a.Error, who, b.Addr, b.Word, b.Excluded, b.Error)
		}
		if a.Excluded {
			excluded++
		}
	}
	return fmt.Sprintf("utsname, the panic message, %d log records, %d tasks (PID, comm, state, stack, saved sp), %d stack words and %d physical words (%d of them in pages left out, refused by both)",
		len(ours.Log), len(ours.Tasks), words, len(ours.Phys), excluded)
}

func unhex(s string) string {
	b, err := hex.DecodeString(s)
	if err != nil {
		return "(not hex: " + s + ")"
	}
	return string(b)
}

// crashCompare runs crash 8.0.2 (arm64, under qemu-aarch64-static) once
// on vmcore and checks its answers against the analyzer's: sys, log,
// every task's PID, comm, raw state, stack and saved sp (foreach task -R),
// ps's state letters of the kernel threads (ps -k), and rd of the words
// the analyzer read. crash's plain ps stops at the first user task on
// 6.12: 8.0.2 reads mm->rss_stat as the atomic counters it was before
// 6.2 ("invalid structure member offset: mm_rss_stat_count"); user tasks'
// states are checked through their raw __state instead.
func crashCompare(t *testing.T, o crashoracle.Oracle, vmlinux, vmcore string, ours dumpView) {
	// crash 8.0.2 misreads struct pid's flexible numbers[] (6.5+; see
	// crashoracle.PidSizeFix) and finds 3 tasks without the fix.
	fixed := crashoracle.FixedVmlinux(t, vmlinux)
	cmds := []string{"sys", "log", "ps -k", "foreach task -R pid,__state,exit_state,stack,thread.cpu_context.sp"}
	const fixedCmds = 4
	for _, tk := range ours.Tasks {
		cmds = append(cmds, fmt.Sprintf("rd -64 %#x 8", tk.SP), fmt.Sprintf("rd -64 %#x 8", tk.Stack+arm64ThreadSize-64))
	}
	for _, pw := range ours.Phys {
		cmds = append(cmds, fmt.Sprintf("rd -p -64 %#x 1", pw.Addr))
	}
	answers, preamble, err := o.Run(context.Background(), fixed, vmcore, cmds)
	if err != nil {
		t.Fatalf("%v\n%s", err, preamble)
	}
	analyze := map[string]string{}
	for _, c := range []string{"sys", "log"} {
		var out, errw bytes.Buffer
		if err := runAnalyze([]string{"-c", c, vmlinux, vmcore}, io.NopCloser(strings.NewReader("")), &out, &errw); err != nil {
			t.Fatalf("%s: %v\n%s", c, err, errw.String())
		}
		analyze[c] = out.String()
	}
	if !regexp.MustCompile(`DUMPFILE: .*vmcore\.makedumpfile\s+\[PARTIAL DUMP\]`).MatchString(answers[0]) {
		t.Errorf("crash does not see a partial kdump-compressed dump:\n%s", answers[0])
	}
	// crash 8.0.2 prints DATE and UPTIME wrong on 6.12 (1970, 2135039823346
	// days): its timekeeper layout is older; those are not compared.
	for _, key := range []string{"RELEASE", "VERSION", "NODENAME", "PANIC"} {
		if a, b := field(analyze["sys"], key), field(answers[0], key); a == "" || a != b {
			t.Errorf("sys %s: ours %q, crash %q", key, a, b)
		}
	}
	logLines := strings.Count(strings.TrimSpace(answers[1]), "\n") + 1
	if a, b := strings.TrimSpace(dots(analyze["log"])), strings.TrimSpace(answers[1]); a != b || logLines < 50 {
		t.Errorf("log differs (ours %d lines, crash %d):\n%s", strings.Count(a, "\n")+1, logLines, diffLines(a, b))
	}

	byAddr := map[uint64]taskView{}
	for _, tk := range ours.Tasks {
		byAddr[tk.Addr] = tk
	}
	// ps -k: "   PID  PPID CPU TASK ST %MEM VSZ RSS COMM", ">" on active tasks.
	kthreads := 0
	for _, l := range strings.Split(answers[2], "\n") {
		f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(l), ">"))
		if len(f) < 9 || f[0] == "PID" {
			continue
		}
		addr, err := strconv.ParseUint(f[3], 16, 64)
		tk, ok := byAddr[addr]
		if err != nil || !ok {
			t.Errorf("ps -k: task %s (%s) is not one of ours", f[3], l)
			continue
		}
		if psLetter[f[4]] != tk.State {
			t.Errorf("ps -k: PID %d state %s, ours %s", tk.PID, f[4], tk.State)
		}
		kthreads++
	}
	if kthreads < 20 {
		t.Errorf("crash's ps -k lists %d kernel threads:\n%s", kthreads, answers[2])
	}

	head := regexp.MustCompile(`(?m)^PID: +(\d+) +TASK: ([0-9a-f]+) +CPU: \d+ +COMMAND: "(.*)"$`)
	member := regexp.MustCompile(`(?m)^  ([\w.]+) = (\w+),$`)
	blocks := head.FindAllStringSubmatchIndex(answers[3], -1)
	seen := map[uint64]bool{}
	for i, m := range blocks {
		end := len(answers[3])
		if i+1 < len(blocks) {
			end = blocks[i+1][0]
		}
		addr, _ := strconv.ParseUint(answers[3][m[4]:m[5]], 16, 64)
		comm := answers[3][m[6]:m[7]]
		tk, ok := byAddr[addr]
		if !ok {
			t.Errorf("foreach: crash finds task %#x (%s), we do not", addr, comm)
			continue
		}
		seen[addr] = true
		got := map[string]uint64{}
		for _, mm := range member.FindAllStringSubmatch(answers[3][m[1]:end], -1) {
			got[mm[1]], _ = strconv.ParseUint(mm[2], 0, 64)
		}
		want := map[string]uint64{"pid": uint64(tk.PID), "__state": tk.RawState, "exit_state": tk.ExitState, "stack": tk.Stack, "thread.cpu_context.sp": tk.SP}
		if comm != unhex(tk.Comm) || !maps.Equal(got, want) {
			t.Errorf("task %#x: crash %q %v, ours %q %v", addr, comm, got, unhex(tk.Comm), want)
		}
	}
	if len(seen) != len(ours.Tasks) {
		t.Errorf("crash's foreach finds %d of our %d tasks", len(seen), len(ours.Tasks))
	}

	a := answers[fixedCmds:]
	words := 0
	for i, tk := range ours.Tasks {
		for j, want := range [][]uint64{tk.SPWords, tk.TopWords} {
			got := rdWords(a[2*i+j])
			if !slices.Equal(got, want) {
				t.Errorf("PID %d: %s: crash %#x, ours %#x", tk.PID, cmds[fixedCmds+2*i+j], got, want)
			}
			words += len(got)
		}
	}
	a = a[2*len(ours.Tasks):]
	excluded := 0
	for i, pw := range ours.Phys {
		// crash refuses a page makedumpfile left out ("page excluded";
		// it would read zeros only with --zero_excluded).
		got := rdWords(a[i])
		switch {
		case pw.Excluded && (len(got) != 0 || !strings.Contains(a[i], "page excluded")):
			t.Errorf("physical %#x is excluded, but crash reads %q", pw.Addr, a[i])
		case !pw.Excluded && !slices.Equal(got, []uint64{pw.Word}):
			t.Errorf("physical %#x: crash %q, ours %#x", pw.Addr, a[i], pw.Word)
		}
		if pw.Excluded {
			excluded++
		}
	}
	t.Logf("crash 8.0.2 arm64 on makedumpfile's file agrees with the analyzer on sys, %d log lines, %d tasks (PID, comm, state, stack, saved sp; ps -k letters of %d kernel threads), %d stack words and %d physical words (%d in pages left out)",
		logLines, len(seen), kthreads, words, len(ours.Phys), excluded)
}

// rdWords is the values of crash's rd -64 output: "ADDR:  WORD WORD  ASCII".
func rdWords(out string) []uint64 {
	var w []uint64
	for _, l := range strings.Split(out, "\n") {
		addr, rest, ok := strings.Cut(strings.TrimSpace(l), ":  ")
		if !ok || strings.ContainsAny(addr, " \t") {
			continue
		}
		// Two words a line; the ASCII column after them may look like hex.
		for _, f := range strings.Fields(rest)[:min(2, len(strings.Fields(rest)))] {
			v, err := strconv.ParseUint(f, 16, 64)
			if len(f) != 16 || err != nil {
				break
			}
			w = append(w, v)
		}
	}
	return w
}
