package commands

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/kdumpkit/kdumpkit/analyze/kernel"
)

// signalNames are crash's names for signals 1 to 31 (ARM and arm64
// number them as every Linux port but Alpha, MIPS, SPARC and PA-RISC).
var signalNames = []string{"", "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT/SIGIOT", "SIGBUS", "SIGFPE",
	"SIGKILL", "SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGCHLD/SIGCLD",
	"SIGCONT", "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF",
	"SIGWINCH", "SIGIO/SIGPOLL", "SIGPWR", "SIGSYS/SIGUNUSED"}

// signalName is signal n's name; real-time signals count from SIGRTMIN
// (32) up to SIGRTMIN+16 and from SIGRTMAX (64) down.
func signalName(n int) string {
	switch {
	case n > 0 && n < 32:
		return signalNames[n]
	case n == 32:
		return "SIGRTMIN"
	case n > 32 && n <= 48:
		return fmt.Sprintf("SIGRTMIN+%d", n-32)
	case n > 48 && n < 64:
		return fmt.Sprintf("SIGRTMAX-%d", 64-n)
	case n == 64:
		return "SIGRTMAX"
	}
	return fmt.Sprintf("signal %d", n)
}

// saFlags are struct sigaction's flags (include/uapi/asm-generic/
// signal-defs.h and ARM's SA_RESTORER), in bit order.
var saFlags = []struct {
	bit  uint64
	name string
}{{1, "SA_NOCLDSTOP"}, {2, "SA_NOCLDWAIT"}, {4, "SA_SIGINFO"}, {0x04000000, "SA_RESTORER"}, {0x08000000, "SA_ONSTACK"},
	{0x10000000, "SA_RESTART"}, {0x40000000, "SA_NODEFER"}, {0x80000000, "SA_RESETHAND"}}

// sig is crash's sig: a task's signal handlers, blocked and pending
// signals; -g the whole thread group's; -l the signal names; -s SET the
// names of a sigset's bits.
func (s *Session) sig(w io.Writer, args []string) error {
	if len(args) == 2 && args[1] == "-l" {
		for n := 1; n <= 64; n++ {
			fmt.Fprintf(w, "%4s %s\n", fmt.Sprintf("[%d]", n), signalName(n))
		}
		return nil
	}
	if len(args) >= 2 && args[1] == "-s" {
		if len(args) != 3 {
			return fmt.Errorf("sig -s SIGSET: %w", ErrUsage)
		}
		set, err := strconv.ParseUint(strings.TrimPrefix(args[2], "0x"), 16, 64)
		if err != nil {
			return fmt.Errorf("sig -s: %q is not a hexadecimal sigset", args[2])
		}
		fmt.Fprintln(w, sigsetNames(set))
		return nil
	}
	if err := s.needTypes("sig"); err != nil {
		return err
	}
	group := false
	rest := args[1:]
	if len(rest) > 0 && rest[0] == "-g" {
		group, rest = true, rest[1:]
	}
	tasks, err := s.taskArgs("sig", rest)
	if err != nil {
		return err
	}
	for _, t := range tasks {
		if err := s.sigTask(w, t, group); err != nil {
			return err
		}
	}
	return nil
}

func sigsetNames(set uint64) string {
	var names []string
	for n := 1; n <= 64; n++ {
		if set&(1<<uint(n-1)) != 0 {
			names = append(names, strings.SplitN(signalName(n), "/", 2)[0])
		}
	}
	return strings.Join(names, " ")
}

// sigTask prints one task's signals; group: the thread group's handlers
// and shared pending set once, then each thread's own state indented.
func (s *Session) sigTask(w io.Writer, t kernel.Task, group bool) error {
	sg, err := s.Kernel.TaskSignals(t)
	if err != nil {
		return fmt.Errorf("sig: PID %d: %w", t.PID, err)
	}
	d := 2 * s.Kernel.PtrSize
	fmt.Fprintln(w, taskHeader(t))
	fmt.Fprintf(w, "SIGNAL_STRUCT: %x  NR_THREADS: %d\n", sg.SignalStruct, sg.NrThreads)
	fmt.Fprintf(w, " SIG %s  HANDLER       MASK       FLAGS   \n", centre("SIGACTION", d))
	for i, a := range sg.Actions {
		h := fmt.Sprintf("%x", a.Handler)
		switch a.Handler {
		case 0:
			h = "SIG_DFL"
		case 1:
			h = "SIG_IGN"
		}
		var names []string
		for _, f := range saFlags {
			if a.Flags&f.bit != 0 {
				names = append(names, f.name)
			}
		}
		tail := ""
		if len(names) > 0 {
			tail = "(" + strings.Join(names, "|") + ")"
		}
		fmt.Fprintf(w, "%4s  %0*x %8s %016x %x %s\n", fmt.Sprintf("[%d]", i+1), d, a.Addr, h, a.Mask, a.Flags, tail)
	}
	own := func(indent string, t kernel.Task, sg kernel.Signals) {
		yes := "no"
		if sg.SigPending {
			yes = "yes"
		}
		fmt.Fprintf(w, "%sSIGPENDING: %s\n%s   BLOCKED: %016x\n", indent, yes, indent, sg.Blocked)
		s.pendingLines(w, indent, "PRIVATE_PENDING", sg.Private)
	}
	if !group {
		own("", t, sg)
		s.pendingLines(w, "", "SHARED_PENDING", sg.Shared)
		fmt.Fprintln(w)
		return nil
	}
	s.pendingLines(w, "", "SHARED_PENDING", sg.Shared)
	tasks, _ := s.Kernel.Tasks()
	for _, th := range tasks {
		if th.TGID != t.TGID {
			continue
		}
		ts, err := s.Kernel.TaskSignals(th)
		if err != nil {
			return fmt.Errorf("sig: PID %d: %w", th.PID, err)
		}
		fmt.Fprintf(w, "\n  %s\n", taskHeader(th))
		own("  ", th, ts)
	}
	fmt.Fprintln(w)
	return nil
}

func (s *Session) pendingLines(w io.Writer, indent, title string, p kernel.Pending) {
	fmt.Fprintf(w, "%s%s\n%s    SIGNAL: %016x\n", indent, title, indent, p.Signal)
	if len(p.Queue) == 0 {
		fmt.Fprintf(w, "%s  SIGQUEUE: (empty)\n", indent)
		return
	}
	fmt.Fprintf(w, "%s  SIGQUEUE:  SIG  %s\n", indent, centre("SIGINFO", 2*s.Kernel.PtrSize))
	for _, q := range p.Queue {
		fmt.Fprintf(w, "%s             %3d  %x\n", indent, q.Signo, q.SigInfo)
	}
}
