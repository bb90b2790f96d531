package kernel

import "fmt"

// Signals is a task's signal state (include/linux/sched/signal.h): its
// thread group's handlers (sighand->action[]), its blocked set, and the
// signals pending on the thread and on the group.
type Signals struct {
	SignalStruct uint64
	NrThreads    int64
	Actions      []SigAction // [0] is signal 1
	SigPending   bool        // TIF_SIGPENDING
	Blocked      uint64
	Private      Pending
	Shared       Pending
}

// SigAction is one struct k_sigaction.
type SigAction struct {
	Addr    uint64
	Handler uint64 // 0 SIG_DFL, 1 SIG_IGN, else a user address
	Flags   uint64
	Mask    uint64
}

// Pending is a struct sigpending: its set and its queued signals.
type Pending struct {
	Signal uint64
	Queue  []QueuedSignal
}

// QueuedSignal is one struct sigqueue: the signal and its siginfo.
type QueuedSignal struct {
	Signo   int
	SigInfo uint64
}

// maxSigQueue bounds a pending list's walk.
const maxSigQueue = 1 << 16

// TaskSignals reads t's signal state.
func (k *Kernel) TaskSignals(t Task) (Signals, error) {
	var s Signals
	if k.Types == nil {
		return s, fmt.Errorf("sig: %w", ErrNoTypes)
	}
	const ts = "struct task_struct"
	var err error
	if s.SignalStruct, err = k.field(t.Addr, ts, "signal"); err != nil {
		return s, err
	}
	if n, err := k.field(s.SignalStruct, "struct signal_struct", "nr_threads"); err == nil {
		s.NrThreads = int64(int32(n))
	}
	sighand, err := k.field(t.Addr, ts, "sighand")
	if err != nil {
		return s, err
	}
	act, err := k.Types.FieldOf("struct sighand_struct", "action")
	if err != nil {
		return s, err
	}
	size, err := k.Types.Size("struct k_sigaction")
	if err != nil || size <= 0 {
		return s, fmt.Errorf("sizeof(struct k_sigaction): %v", err)
	}
	if sighand != 0 {
		for i := int64(0); i < act.Size/size; i++ {
			a := SigAction{Addr: sighand + uint64(act.Offset) + uint64(i*size)}
			if a.Handler, err = k.field(a.Addr, "struct k_sigaction", "sa.sa_handler"); err != nil {
				return s, fmt.Errorf("PID %d sighand %#x action[%d]: %w", t.PID, sighand, i, err)
			}
			a.Flags, _ = k.field(a.Addr, "struct k_sigaction", "sa.sa_flags")
			if off, err := k.off("struct k_sigaction", "sa.sa_mask"); err == nil {
				a.Mask, _ = k.sigset(a.Addr + uint64(off))
			}
			s.Actions = append(s.Actions, a)
		}
	}
	if flags, err := k.field(t.Addr, ts, "thread_info.flags"); err == nil {
		s.SigPending = flags&1 != 0 // TIF_SIGPENDING is bit 0 on ARM and arm64
	}
	if off, err := k.off(ts, "blocked"); err == nil {
		s.Blocked, _ = k.sigset(t.Addr + uint64(off))
	}
	if off, err := k.off(ts, "pending"); err == nil {
		if s.Private, err = k.pending(t.Addr + uint64(off)); err != nil {
			return s, err
		}
	}
	if off, err := k.off("struct signal_struct", "shared_pending"); err == nil {
		if s.Shared, err = k.pending(s.SignalStruct + uint64(off)); err != nil {
			return s, err
		}
	}
	return s, nil
}

// sigset reads a sigset_t as one 64-bit value (two words on 32-bit).
func (k *Kernel) sigset(addr uint64) (uint64, error) {
	if k.PtrSize == 8 {
		return k.ReadUint(addr, 8)
	}
	lo, err := k.ReadUint(addr, 4)
	if err != nil {
		return 0, err
	}
	hi, err := k.ReadUint(addr+4, 4)
	return lo | hi<<32, err
}

// pending reads a struct sigpending and its queue of struct sigqueue.
func (k *Kernel) pending(addr uint64) (Pending, error) {
	var p Pending
	off, err := k.off("struct sigpending", "signal")
	if err != nil {
		return p, err
	}
	if p.Signal, err = k.sigset(addr + uint64(off)); err != nil {
		return p, fmt.Errorf("sigpending %#x: %w", addr, err)
	}
	infoOff, err := k.off("struct sigqueue", "info")
	if err != nil {
		return p, err
	}
	links, err := k.walkList(addr) // list is sigpending's first member
	for i, l := range links {
		if i >= maxSigQueue {
			break
		}
		signo, _ := k.ReadUint(l+uint64(infoOff), 4)
		p.Queue = append(p.Queue, QueuedSignal{Signo: int(int32(signo)), SigInfo: l + uint64(infoOff)})
	}
	return p, err
}
