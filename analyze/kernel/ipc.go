package kernel

import (
	"errors"
	"fmt"
)

// IPC kinds, the index of ipc_namespace.ids[] (ipc/util.h: IPC_SEM_IDS,
// IPC_MSG_IDS, IPC_SHM_IDS).
const (
	IPCSem = 0
	IPCMsg = 1
	IPCShm = 2
)

// IPCObject is one System V IPC object of init's IPC namespace: its
// struct kern_ipc_perm (the first member of shmid_kernel, sem_array and
// msg_queue) and the numbers ipcs shows for its kind.
type IPCObject struct {
	Addr     uint64
	Key      uint64
	ID       int64
	UID      uint64
	Mode     uint64
	Bytes    uint64 // shm: shm_segsz; msg: q_cbytes
	Count    uint64 // shm: shm_nattch; sem: sem_nsems; msg: q_qnum
	Deleted  bool
	Resident uint64
}

// maxIPCObjects bounds one kind's walk.
const maxIPCObjects = 1 << 16

// IPCObjects walks init_ipc_ns.ids[kind].ipcs_idr, the IDR (an XArray)
// holding each object's kern_ipc_perm.
func (k *Kernel) IPCObjects(kind int) ([]IPCObject, error) {
	if k.Types == nil {
		return nil, fmt.Errorf("ipcs: %w", ErrNoTypes)
	}
	if kind < IPCSem || kind > IPCShm {
		return nil, fmt.Errorf("ipcs: no IPC kind %d", kind)
	}
	ns, err := k.symbol("init_ipc_ns")
	if err != nil {
		return nil, fmt.Errorf("init_ipc_ns (a kernel without SYSVIPC): %w", err)
	}
	idsF, err := k.Types.FieldOf("struct ipc_namespace", "ids")
	if err != nil {
		return nil, err
	}
	size, err := k.Types.Size("struct ipc_ids")
	if err != nil || size <= 0 {
		return nil, fmt.Errorf("sizeof(struct ipc_ids): %v", err)
	}
	idrOff, err := k.off("struct ipc_ids", "ipcs_idr.idr_rt")
	if err != nil {
		return nil, err
	}
	l, err := k.XArrayLayout()
	if err != nil {
		return nil, err
	}
	root := ns + uint64(idsF.Offset) + uint64(kind)*uint64(size) + uint64(idrOff)
	entries, werr := k.XArray(root, false, l, maxIPCObjects)
	var out []IPCObject
	var errs []error
	if werr != nil {
		errs = append(errs, werr)
	}
	for _, e := range entries {
		o, err := k.ipcObject(kind, e.Entry)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, o)
	}
	return out, errors.Join(errs...)
}

func (k *Kernel) ipcObject(kind int, perm uint64) (IPCObject, error) {
	const kp = "struct kern_ipc_perm"
	o := IPCObject{Addr: perm}
	id, err := k.field(perm, kp, "id")
	if err != nil {
		return o, fmt.Errorf("kern_ipc_perm %#x: %w", perm, err)
	}
	o.ID = int64(int32(id))
	o.Key, _ = k.field(perm, kp, "key")
	o.UID, _ = k.field(perm, kp, "uid")
	o.Mode, _ = k.field(perm, kp, "mode")
	if d, _ := k.field(perm, kp, "deleted"); d != 0 {
		o.Deleted = true
	}
	switch kind {
	case IPCShm:
		o.Bytes, _ = k.field(perm, "struct shmid_kernel", "shm_segsz")
		o.Count, _ = k.field(perm, "struct shmid_kernel", "shm_nattch")
	case IPCSem:
		o.Count, _ = k.field(perm, "struct sem_array", "sem_nsems")
	case IPCMsg:
		o.Bytes, _ = k.field(perm, "struct msg_queue", "q_cbytes")
		o.Count, _ = k.field(perm, "struct msg_queue", "q_qnum")
	}
	return o, nil
}
