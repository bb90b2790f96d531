package commands

import (
	"fmt"
	"io"

	"github.com/kdumpkit/kdumpkit/analyze/kernel"
)

// ipcs is crash's ipcs: init's System V shared memory segments,
// semaphore arrays and message queues (-m, -s, -q: one kind).
func (s *Session) ipcs(w io.Writer, args []string) error {
	if err := s.needTypes("ipcs"); err != nil {
		return err
	}
	kinds := []int{kernel.IPCShm, kernel.IPCSem, kernel.IPCMsg}
	switch {
	case len(args) == 2 && args[1] == "-m":
		kinds = []int{kernel.IPCShm}
	case len(args) == 2 && args[1] == "-s":
		kinds = []int{kernel.IPCSem}
	case len(args) == 2 && args[1] == "-q":
		kinds = []int{kernel.IPCMsg}
	case len(args) != 1:
		return fmt.Errorf("ipcs [-m|-s|-q]: %w", ErrUsage)
	}
	d := 2 * s.Kernel.PtrSize
	for i, kind := range kinds {
		objs, err := s.Kernel.IPCObjects(kind)
		if len(objs) == 0 && err != nil {
			return fmt.Errorf("ipcs: %w", err)
		}
		if i > 0 {
			fmt.Fprintln(w)
		}
		switch kind {
		case kernel.IPCShm:
			fmt.Fprintf(w, "%-*s KEY      SHMID      UID   PERMS BYTES      NATTCH STATUS\n", max(d, 12), "SHMID_KERNEL")
		case kernel.IPCSem:
			fmt.Fprintf(w, "%-*s KEY      SEMID      UID   PERMS NSEMS     \n", max(d, 10), "SEM_ARRAY")
		case kernel.IPCMsg:
			fmt.Fprintf(w, "%-*s KEY      MSQID      UID   PERMS USED-BYTES   MESSAGES    \n", max(d, 10), "MSG_QUEUE")
		}
		if len(objs) == 0 {
			fmt.Fprintln(w, "(none allocated)")
		}
		for _, o := range objs {
			status := ""
			if o.Deleted {
				status = "dest"
			}
			switch kind {
			case kernel.IPCShm:
				fmt.Fprintf(w, "%-*x %08x %-10d %-5d %-5o %-10d %-7d %s\n", max(d, 12), o.Addr, o.Key, o.ID, o.UID, o.Mode&0o777, o.Bytes, o.Count, status)
			case kernel.IPCSem:
				fmt.Fprintf(w, "%-*x %08x %-10d %-5d %-5o %-10d\n", max(d, 10), o.Addr, o.Key, o.ID, o.UID, o.Mode&0o777, o.Count)
			case kernel.IPCMsg:
				fmt.Fprintf(w, "%-*x %08x %-10d %-5d %-5o %-12d %-12d\n", max(d, 10), o.Addr, o.Key, o.ID, o.UID, o.Mode&0o777, o.Bytes, o.Count)
			}
		}
		if err != nil {
			s.warn(w, err)
		}
	}
	fmt.Fprintln(w)
	return nil
}
