package kernel

import (
	"fmt"
	"strings"
)

// OpenFile is one file descriptor of a task.
type OpenFile struct {
	FD                  int
	File, Dentry, Inode uint64
	Type                string // CHR, BLK, DIR, REG, FIFO, LNK, SOCK; UNKN for anonymous inodes
	Path                string
}

// Files is a task's root, working directory and open files.
type Files struct {
	Root, Cwd string
	Open      []OpenFile
}

// maxFDs and maxPathDepth bound the walks over a corrupt dump.
const (
	maxFDs       = 1 << 16
	maxPathDepth = 256
)

// TaskFiles reads task->fs (root, pwd) and task->files->fdt->fd[]
// (include/linux/fdtable.h, fs_struct.h, 6.1), naming each file by its
// path as d_path does, across mount points. A task without files (a
// kernel thread) has none.
func (k *Kernel) TaskFiles(t Task) (Files, error) {
	var f Files
	const ts = "struct task_struct"
	if fs, err := k.field(t.Addr, ts, "fs"); err == nil && fs != 0 {
		rootOff, _ := k.off("struct fs_struct", "root")
		pwdOff, _ := k.off("struct fs_struct", "pwd")
		f.Root = k.pathAt(fs + uint64(rootOff))
		f.Cwd = k.pathAt(fs + uint64(pwdOff))
	}
	files, err := k.field(t.Addr, ts, "files")
	if err != nil || files == 0 {
		return f, err
	}
	fdt, err := k.field(files, "struct files_struct", "fdt")
	if err != nil {
		return f, err
	}
	max, err := k.field(fdt, "struct fdtable", "max_fds")
	if err != nil {
		return f, err
	}
	arr, err := k.field(fdt, "struct fdtable", "fd")
	if err != nil {
		return f, err
	}
	if max > maxFDs {
		return f, fmt.Errorf("task %#x: max_fds %d is not plausible", t.Addr, max)
	}
	for fd := uint64(0); fd < max; fd++ {
		file, err := k.ReadPtr(arr + fd*uint64(k.PtrSize))
		if err != nil {
			return f, fmt.Errorf("fd[%d] at %#x: %w", fd, arr+fd*uint64(k.PtrSize), err)
		}
		if file == 0 {
			continue
		}
		of := OpenFile{FD: int(fd), File: file}
		of.Dentry, _ = k.field(file, "struct file", "f_path.dentry")
		of.Inode, _ = k.field(file, "struct file", "f_inode")
		of.Type = k.inodeType(of.Inode)
		if off, err := k.off("struct file", "f_path"); err == nil {
			of.Path = k.pathAt(file + uint64(off))
		}
		f.Open = append(f.Open, of)
	}
	return f, nil
}

// inodeType spells an inode's S_IFMT bits as crash does.
func (k *Kernel) inodeType(inode uint64) string {
	mode, err := k.field(inode, "struct inode", "i_mode")
	if err != nil {
		return "UNKN"
	}
	switch mode & 0o170000 {
	case 0o140000:
		return "SOCK"
	case 0o120000:
		return "LNK"
	case 0o100000:
		return "REG"
	case 0o060000:
		return "BLK"
	case 0o040000:
		return "DIR"
	case 0o020000:
		return "CHR"
	case 0o010000:
		return "FIFO"
	}
	return "UNKN"
}

// pathAt names the struct path at addr ({vfsmount *mnt; dentry
// *dentry}) as d_path does: the dentry names up to the mount's root, then
// on from its mount point in the parent mount, up to the root of the
// tree. A pseudo file's dentry (its own parent, not a mount root: pipes,
// anonymous inodes) is its bare name, as crash prints it.
func (k *Kernel) pathAt(addr uint64) string {
	vfsmnt, err := k.ReadPtr(addr)
	if err != nil {
		return ""
	}
	dentry, err := k.ReadPtr(addr + uint64(k.PtrSize))
	if err != nil || dentry == 0 {
		return ""
	}
	return k.pathOf(vfsmnt, dentry)
}

// pathOf is pathAt of a vfsmount and dentry.
func (k *Kernel) pathOf(vfsmnt, dentry uint64) string {
	mntOff, err := k.off("struct mount", "mnt")
	if err != nil {
		return ""
	}
	var parts []string
	for i := 0; i < maxPathDepth; i++ {
		root, _ := k.field(vfsmnt, "struct vfsmount", "mnt_root")
		parent, err := k.field(dentry, "struct dentry", "d_parent")
		if err != nil {
			break
		}
		if dentry == root || parent == dentry {
			mnt := vfsmnt - uint64(mntOff)
			up, _ := k.field(mnt, "struct mount", "mnt_parent")
			if dentry != root || up == mnt || up == 0 {
				if dentry != root { // a pseudo dentry
					return k.dentryName(dentry)
				}
				break
			}
			dentry, _ = k.field(mnt, "struct mount", "mnt_mountpoint")
			vfsmnt = up + uint64(mntOff)
			continue
		}
		parts = append(parts, k.dentryName(dentry))
		dentry = parent
	}
	for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	return "/" + strings.Join(parts, "/")
}

// dentryName reads d_name (struct qstr: len and name).
func (k *Kernel) dentryName(d uint64) string {
	n, err := k.field(d, "struct dentry", "d_name.len")
	if err != nil || n > 255 {
		return ""
	}
	p, err := k.field(d, "struct dentry", "d_name.name")
	if err != nil || p == 0 {
		return ""
	}
	s, err := k.ReadString(p, int(n))
	if err != nil {
		return ""
	}
	return s
}

// Mount is one mount of the initial mount namespace.
type Mount struct {
	Addr, SuperBlock uint64 // the struct mount, its super_block
	Type, DevName    string
	Dir              string
}

// maxMounts bounds the walk of a namespace's mounts.
const maxMounts = 1 << 14

// Mounts walks init's mount namespace (init_task.nsproxy->mnt_ns->list,
// struct mount.mnt_list) and names each mount's directory as d_path does.
func (k *Kernel) Mounts() ([]Mount, error) {
	initTask, err := k.symbol("init_task")
	if err != nil {
		return nil, err
	}
	nsproxy, err := k.field(initTask, "struct task_struct", "nsproxy")
	if err != nil {
		return nil, err
	}
	ns, err := k.field(nsproxy, "struct nsproxy", "mnt_ns")
	if err != nil {
		return nil, err
	}
	headOff, err1 := k.off("struct mnt_namespace", "list")
	listOff, err2 := k.off("struct mount", "mnt_list")
	mntOff, err3 := k.off("struct mount", "mnt")
	if err1 != nil || err2 != nil || err3 != nil {
		return nil, fmt.Errorf("mount layout: %v %v %v", err1, err2, err3)
	}
	nodes, walkErr := k.walkList(ns + uint64(headOff))
	var out []Mount
	for i, n := range nodes {
		if i >= maxMounts {
			break
		}
		m := Mount{Addr: n - uint64(listOff)}
		vfs := m.Addr + uint64(mntOff)
		m.SuperBlock, _ = k.field(vfs, "struct vfsmount", "mnt_sb")
		if dev, err := k.field(m.Addr, "struct mount", "mnt_devname"); err == nil && dev != 0 {
			m.DevName, _ = k.ReadString(dev, 256)
		}
		if st, err := k.field(m.SuperBlock, "struct super_block", "s_type"); err == nil && st != 0 {
			if name, err := k.field(st, "struct file_system_type", "name"); err == nil && name != 0 {
				m.Type, _ = k.ReadString(name, 64)
			}
		}
		if root, err := k.field(vfs, "struct vfsmount", "mnt_root"); err == nil {
			m.Dir = k.pathOf(vfs, root)
		}
		out = append(out, m)
	}
	if walkErr != nil {
		return out, fmt.Errorf("mounts: %w", walkErr)
	}
	return out, nil
}
