package commands

// helpPages returns the "help CMD" texts, in crash's NAME/SYNOPSIS/
// DESCRIPTION shape, shortened to what this analyzer does.
func helpPages() map[string]string {
	return map[string]string{
		"sys": `NAME
  sys - system data

SYNOPSIS
  sys

DESCRIPTION
  Kernel and dump file, CPUs, crash date, uptime, load average, task count,
  utsname, memory, the panic message and the panic task. Without DWARF the
  task fields come from the CPU notes; --json prints the same fields.`,
		"log": `NAME
  log - dump the kernel message buffer

SYNOPSIS
  log [-m]

DESCRIPTION
  The printk records, "[seconds.micros] text", read from VMCOREINFO alone.
    -m  show each message's log level as <N> after the timestamp.`,
		"ps": `NAME
  ps - display process status information

SYNOPSIS
  ps [-p | -c] [pid | taskp | command] ...

DESCRIPTION
  PID PPID CPU TASK ST %MEM VSZ RSS COMM for every task; kernel threads in
  [brackets]; '>' marks the task active on a CPU.
    -p  the parental hierarchy of the given (or current) task.
    -c  the children of the given (or current) task.`,
		"bt": `NAME
  bt - backtrace

SYNOPSIS
  bt [-a] [-f] [pid | taskp]

DESCRIPTION
  Frames "#N [sp] function at pc", unwound with the ARM EHABI tables of the
  vmlinux (ARM32) or by frame records (arm64: [sp] is the frame record,
  across the IRQ stack and the pt_regs of exceptions); return addresses
  are named at pc-4 so that a call to a noreturn function shows its
  caller, an interrupted pc at itself. Registers print where an exception
  frame is: the CPU note for the running task, pt_regs at exception entries
  (ARM svc, arm64 el1h_64_*) and at the syscall entry. A sleeping task
  starts from the cpu_context __switch_to saved, and bt says so: those are
  not the crash registers. On arm64 a CPU the crash stopped starts at
  crash_save_cpu on its IRQ stack; its note is the exception frame below.
    -a  the active task on each CPU.
    -f  the stack words of each frame.`,
		"set": `NAME
  set - set a process context

SYNOPSIS
  set [pid | taskp | -c cpu | -p]

DESCRIPTION
  Shows or sets the current context used by bt, ps -p/-c and task.
    -c cpu  the task active on cpu.
    -p      the panic task.`,
		"struct": `NAME
  struct - structure contents

SYNOPSIS
  struct name[.member] [-o] [address | symbol]

DESCRIPTION
  Without an address, the layout (-o: with member offsets); with one, the
  contents as gdb prints them. "name address" works too when name is a
  struct.`,
		"whatis": `NAME
  whatis - a symbol's or type's declaration

SYNOPSIS
  whatis symbol | type`,
		"sym": `NAME
  sym - translate a symbol to its address or vice versa

SYNOPSIS
  sym address | symbol
  sym -q string`,
		"rd": `NAME
  rd - read memory

SYNOPSIS
  rd address | symbol [count]

DESCRIPTION
  count words of kernel virtual memory in hex with their ASCII.`,
		"p": `NAME
  p - print a kernel variable

SYNOPSIS
  p variable`,
		"task": `NAME
  task - task_struct contents

SYNOPSIS
  task [pid | taskp]`,
		"foreach": `NAME
  foreach - run bt for every task

SYNOPSIS
  foreach bt [-f]`,
		"q": `NAME
  q - exit the session (also exit, quit)`,
		"help": `NAME
  help - this list, or one command's page

SYNOPSIS
  help [command]`,
		"input": `Each line may hold several commands separated by ";". A command's output
may go to a shell command ("ps | grep bash") or to a file ("bt > f",
"log >> f": one file name, no blanks). ";", "|" and ">" inside quotes are
plain text; a line with a quote left open runs nothing. kdumpkit analyze
-c "cmd; cmd" and -i FILE run commands in batch; --json makes sys, ps, bt
and log print JSON. Control characters in text from the dump (task names,
log lines) print as \xHH, as dmesg prints them.`,
	}
}
