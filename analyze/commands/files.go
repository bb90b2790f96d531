package commands

import (
	"fmt"
	"io"
	"strings"

	"github.com/kdumpkit/kdumpkit/analyze/escape"
)

// files is crash's files: a task's root and working directory, then its
// open files with their struct file, dentry and inode, type and path.
func (s *Session) files(w io.Writer, args []string) error {
	if err := s.needTypes("files"); err != nil {
		return err
	}
	tasks, err := s.taskArgs("files", args[1:])
	if err != nil {
		return err
	}
	for i, t := range tasks {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w, taskHeader(t))
		f, err := s.Kernel.TaskFiles(t)
		if err != nil {
			s.warn(w, err)
		}
		fmt.Fprintf(w, "ROOT: %s    CWD: %s\n", escape.Text(f.Root), escape.Text(f.Cwd))
		if len(f.Open) == 0 {
			fmt.Fprintln(w, "No open files")
			continue
		}
		digits := 2 * s.Kernel.PtrSize
		// crash's header: each column name centred over its addresses.
		fmt.Fprintf(w, " FD  %s  %s  %s  TYPE  PATH\n", centre("FILE", digits), centre("DENTRY", digits), centre("INODE", digits))
		for _, o := range f.Open {
			fmt.Fprintf(w, "%3d  %0*x  %0*x  %0*x  %-5s %s\n", o.FD, digits, o.File, digits, o.Dentry, digits, o.Inode, o.Type, escape.Text(o.Path))
		}
	}
	return nil
}

// centre pads name to width, centred (one more space on the right).
func centre(name string, width int) string {
	pad := max(width-len(name), 0)
	return strings.Repeat(" ", pad/2) + name + strings.Repeat(" ", pad-pad/2)
}
