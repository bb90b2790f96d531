package commands

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/kdumpkit/kdumpkit/analyze/disasm"
	"github.com/kdumpkit/kdumpkit/analyze/kernel"
	"github.com/kdumpkit/kdumpkit/analyze/lines"
	"github.com/kdumpkit/kdumpkit/analyze/unwind"
)

// Sentinel errors of this package.
var (
	// ErrUsage means a command was called with bad arguments.
	ErrUsage = errors.New("usage")
	// ErrUnknown means no command has the name typed.
	ErrUnknown = errors.New("unknown command")
	// ErrQuit is returned by q/exit; the prompt stops on it.
	ErrQuit = errors.New("quit")
)

// Session is one analysis of a dump: the helpers, the current context task
// and the output settings. Commands run one at a time.
type Session struct {
	Kernel *kernel.Kernel
	Unwind unwind.Unwinder // nil when the image has no unwind tables
	// Printk returns the printk records (the printk helper).
	Printk func() ([]LogRecord, error)
	// KernelPath and DumpPath are shown by sys.
	KernelPath, DumpPath string
	// DumpRAM is the bytes of RAM the dump's PT_LOADs describe (MEMORY
	// when DWARF cannot say more).
	DumpRAM uint64
	// Partial is set when the dump file lacks data its headers promise
	// (a truncated copy); sys marks DUMPFILE as crash does.
	Partial bool
	// Unverified holds the reasons of the pipeline's UNVERIFIED marker
	// beside the vmcore (dump.UnverifiedName); sys shows them.
	Unverified []string
	// Machine is the dump's ELF machine, e.g. "arm".
	Machine string
	// JSON makes sys, ps, bt and log print JSON.
	JSON bool
	// Warn receives warnings (partial answers); defaults to Out of the command.
	Warn io.Writer
	// Scroll sends each command's output through Pager, as crash's "set
	// scroll on" does; the CLI turns it on only for an interactive
	// session on a terminal, never for -c or -i or a pipe.
	Scroll bool
	// Pager is the shell command Scroll uses ("less -F -X -R" when
	// empty).
	Pager string

	current *kernel.Task
	// Decoder disassembles the dump's code (dis); nil for a machine
	// without one.
	Decoder disasm.Decoder
	// Lines maps code addresses to source lines (dis -l, bt -l); nil
	// without a vmlinux.
	Lines *lines.Table

	// printCount numbers p's answers, $1, $2..., as gdb's value history.
	printCount int
	// moduleObjects are the object files mod -s/-S found, by module.
	moduleObjects map[string]string
}

type command struct {
	run   func(s *Session, w io.Writer, args []string) error
	brief string
}

func commandTable() map[string]command {
	return map[string]command{
		"sys":     {(*Session).sys, "system data"},
		"log":     {(*Session).log, "kernel message buffer [-m]"},
		"ps":      {(*Session).ps, "process status [-p|-c|-G|-t|-l|-m|-S] [pid|task]..."},
		"bt":      {(*Session).bt, "backtrace [-a] [-f|-F|-FF] [-l] [-t|-e|-r] [pid|task]"},
		"runq":    {(*Session).runq, "each CPU's runqueue: current, RT and CFS tasks"},
		"search":  {(*Session).search, "search [-s start] [-e end|-l len] [-p] [-t] [-w|-h|-c] [-m mask] VALUE...: find values in memory"},
		"set":     {(*Session).set, "set context [pid|task|-c cpu|-p]"},
		"struct":  {(*Session).structCmd, "struct NAME[.member,...] [-o] [-l off] [ADDR [COUNT]]"},
		"union":   {(*Session).structCmd, "union NAME[.member,...] [-o] [ADDR [COUNT]]"},
		"whatis":  {(*Session).whatis, "whatis [-o] SYMBOL|TYPE|struct NAME"},
		"swap":    {(*Session).swap, "swap areas in use"},
		"sym":     {(*Session).sym, "sym ADDR|NAME, sym -l, sym -q STRING, sym -m MODULE"},
		"rd":      {(*Session).rd, "read memory: rd [-8|-16|-32|-64] [-s] [-x] [-a] [-p] ADDR [COUNT]"},
		"kmem":    {(*Session).kmem, "kmem -i|-s|-S|-v|-p|-g|-f [arg] | kmem [-P] ADDR: memory, slabs, pages, or what an address is"},
		"list":    {(*Session).list, "list [-o off] [-s struct[.m,...]] [-r] [-h|-H] START: walk a linked list"},
		"mach":    {(*Session).mach, "machine data"},
		"irq":     {(*Session).irq, "irq [-u|-a|-s|-b] [index...]: interrupt descriptors and their actions"},
		"timer":   {(*Session).timer, "timer [-C cpu]: each CPU's timer wheel"},
		"sig":     {(*Session).sig, "sig [-g] [pid|task]... | -l | -s SIGSET: signal handlers, blocked and pending signals"},
		"dev":     {(*Session).dev, "dev [-i|-p|-d|-D]: character and block devices, I/O resources"},
		"ipcs":    {(*Session).ipcs, "ipcs [-m|-s|-q]: System V shared memory, semaphores, message queues"},
		"waitq":   {(*Session).waitq, "waitq symbol | struct.member ADDR | ADDR: tasks on a wait queue"},
		"tree":    {(*Session).tree, "tree [-t rbtree|radix|xarray|maple] [-r off] [-o off] [-s struct[.m,...]] [-l] [-p] [-N] START: walk a tree"},
		"mod":     {(*Session).mod, "loaded modules; mod -s MODULE [objfile] | -S [dir]: find their object files"},
		"mount":   {(*Session).mount, "mounted file systems"},
		"net":     {(*Session).net, "network devices and their IPv4 addresses"},
		"vm":      {(*Session).vm, "vm [pid|task]...: a task's memory map"},
		"vtop":    {(*Session).vtop, "vtop ADDR: virtual to physical"},
		"ptov":    {(*Session).ptov, "ptov PHYS: physical to virtual"},
		"btop":    {(*Session).btop, "btop ADDR: address to page frame number"},
		"ptob":    {(*Session).ptob, "ptob PFN: page frame number to address"},
		"help":    {(*Session).help, "this list"},
		"p":       {(*Session).print, "print a C expression: p init_task.comm, p (struct list_head *)ADDR, p runqueues:0"},
		"px":      {(*Session).print, "p with integers in hex"},
		"pd":      {(*Session).print, "p with integers in decimal"},
		"dis":     {(*Session).dis, "dis [-l] [-r] ADDR|SYMBOL [COUNT]: disassemble"},
		"eval":    {(*Session).eval, "eval [-b] EXPRESSION: hex, decimal, octal, binary"},
		"ascii":   {(*Session).ascii, "ascii [HEX]...: a value's bytes as characters"},
		"task":    {(*Session).task, "task [-R member[,member]] [pid|task]...: the task_struct"},
		"foreach": {(*Session).foreach, "foreach [pid|name|state|kernel|user|active]... bt|task|files|vm|ps|set [flags]"},
		"files":   {(*Session).files, "files [pid|task]...: open files"},
		"q":       {func(*Session, io.Writer, []string) error { return ErrQuit }, "quit"},
	}
}

// alias resolves crash's builtin aliases to command names.
func alias(name string) string {
	switch name {
	case "exit", "quit":
		return "q"
	case "dmesg":
		return "log"
	case "?", "man":
		return "help"
	}
	return name
}

// Run executes one command line (no pipes or redirects; see Exec). A bug
// that panics inside a command ends that command with an error naming it,
// not the whole session: a half-read dump must not cost the user the prompt.
func (s *Session) Run(w io.Writer, line string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: internal error (please report): %v", strings.TrimSpace(line), r)
		}
	}()
	args := strings.Fields(line)
	if len(args) == 0 {
		return nil
	}
	name := alias(args[0])
	cmd, ok := commandTable()[name]
	if !ok {
		// crash treats an unknown word that names a struct as "struct WORD".
		if s.Kernel != nil && s.Kernel.Types != nil {
			if _, err := s.Kernel.Types.Named(strings.SplitN(name, ".", 2)[0]); err == nil {
				return s.structCmd(w, args)
			}
		}
		return fmt.Errorf("%s: %w (try help)", args[0], ErrUnknown)
	}
	return cmd.run(s, w, args)
}

func (s *Session) help(w io.Writer, args []string) error {
	if len(args) > 1 {
		page, ok := helpPages()[alias(args[1])]
		if !ok {
			return fmt.Errorf("help: no page for %q", args[1])
		}
		fmt.Fprintln(w, page)
		return nil
	}
	tab := commandTable()
	names := make([]string, 0, len(tab))
	for n := range tab {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "%-8s %s\n", n, tab[n].brief)
	}
	fmt.Fprintln(w, "\nFor one command's page, enter \"help <command>\"; for input and output, \"help input\".")
	return nil
}

func (s *Session) warn(w io.Writer, err error) {
	out := s.Warn
	if out == nil {
		out = w
	}
	writeWarning(out, err.Error())
}

// Current returns the context task, the panic task at first.
func (s *Session) Current() (kernel.Task, error) {
	if s.current != nil {
		return *s.current, nil
	}
	p, err := s.Kernel.PanicTask()
	if err != nil {
		return kernel.Task{}, err
	}
	s.current = &p.Task
	return p.Task, nil
}
