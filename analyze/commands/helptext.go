package commands

// helpPages returns the "help CMD" texts, in crash's NAME/SYNOPSIS/
// DESCRIPTION shape, shortened to what this analyzer does.
func helpPages() map[string]string {
	return map[string]string{
		"sys": `NAME
  sys - system data

SYNOPSIS
  sys [-t]

DESCRIPTION
  Kernel and dump file, CPUs, crash date, uptime, load average, task count,
  utsname, memory, the panic message and the panic task. Without DWARF the
  task fields come from the CPU notes; --json prints the same fields.
  KERNEL is marked [TAINTED] when tainted_mask is set; PANIC is the log
  line that says why the kernel died, as crash prints it.
    -t  TAINTED_MASK in hex and the letters of its set bits, spelled by
        the dump's own taint_flags[] table.`,
		"log": `NAME
  log - dump the kernel message buffer

SYNOPSIS
  log [-m] [-T | -t]

DESCRIPTION
  The printk records, "[seconds.micros] text", read from VMCOREINFO alone.
    -m  show each message's log level as <N> after the timestamp.
    -T  the wall-clock time of each record, reckoned as crash does from
        the crash's time (CRASHTIME) less the uptime.
    -t  no timestamps.`,
		"kmem": `NAME
  kmem - kernel memory

SYNOPSIS
  kmem -i | -f | -g [flags] | -p [address] | -v [address]
  kmem -s|-S [cache | address | list]
  kmem [-P] address

DESCRIPTION
    -i  the memory accounting in crash's table: total, free and used
        pages, SHARED (pages mapped more than once, walking mem_map),
        buffers (block device page cache), cached (file pages less swap
        cache and buffers), slab (the kernel's slab counters; crash sums
        its caches' slabs instead), huge pages, swap, the commit limit and
        Committed_AS.
    -s  every SLUB cache on slab_caches: OBJSIZE, ALLOCATED (all objects
        less the free ones the per-CPU and partial slabs hold), TOTAL and
        SLABS (the nodes' counters), SSIZE; with a cache name that cache,
        with an address the slab object holding it, "list" the names.
    -S  as -s, and each slab the kernel can reach — every CPU's active
        and partial slabs, every node's partial list — with its objects:
        free ones plain ("(cpu N cache)" on the CPU's lockless freelist),
        allocated ones [bracketed]. Full slabs are on no list.
    -v  the vmalloc areas in use (vmap_area_list, or 6.9+'s vmap_nodes),
        or the one holding an address.
    -p  every struct page (FLATMEM or SPARSEMEM mem_map): PAGE, PHYSICAL,
        MAPPING, INDEX, CNT (_refcount), FLAGS; or the page of an address
        (a struct page, a kernel virtual or a physical address).
    -g  enum pageflags, or the flags set in a hexadecimal value.
    -f  each zone's buddy free lists by order and migrate type, and
        nr_free_pages checked against the blocks found.
  address: what it is: a kernel symbol, a slab object (its cache and
  slab), a vmalloc area, a task_struct or a task's kernel stack, and the
  struct page of its memory (-P: address is physical).`,
		"irq": `NAME
  irq - IRQ data

SYNOPSIS
  irq [-u | -a | -s | -b] [index ...]

DESCRIPTION
  Each interrupt descriptor (SPARSE_IRQ's irq_desc_tree radix tree up to
  6.4, its sparse_irqs maple tree from 6.5, else the irq_desc array) with
  its irqaction chain: IRQ, IRQ_DESC, IRQACTION and the action's name, or
  (unused).
    -u  in-use IRQs only (crash 8.0.2 lists the unused ones too).
    -a  the CPU affinity of each in-use IRQ.
    -s  each in-use IRQ's count on every CPU (desc->kstat_irqs).
    -b  the softirq vector's actions.
 index  those IRQs only.`,
		"timer": `NAME
  timer - timer queue data

SYNOPSIS
  timer [-C cpu]

DESCRIPTION
  jiffies, then each CPU's timer wheel (timer_bases[]: BASE_STD, and
  BASE_DEF or BASE_LOCAL/BASE_GLOBAL/BASE_DEF with NO_HZ) with its
  pending timer_list entries by expiry: EXPIRES, TTE (jiffies to go, in
  the kernel's word), the timer_list and its function. hrtimers (crash's
  -r) are not read.
    -C cpu  that CPU's bases only.`,
		"sig": `NAME
  sig - task signal handling

SYNOPSIS
  sig [-g] [pid | task] ...
  sig -l
  sig -s sigset

DESCRIPTION
  A task's (the current context's by default) signal_struct and thread
  count, each signal's k_sigaction (SIGACTION address, HANDLER: SIG_DFL,
  SIG_IGN or the user address, MASK, FLAGS with their SA_ names),
  SIGPENDING (TIF_SIGPENDING), BLOCKED, and the private and shared
  pending sets with their queued signals.
    -g  the thread group: handlers and shared set once, then every
        thread's own blocked and pending signals.
    -l  the signal numbers and names.
    -s  the names of the signals set in a hexadecimal sigset.`,
		"dev": `NAME
  dev - device data

SYNOPSIS
  dev [-i | -p | -d | -D]

DESCRIPTION
  The character devices, each char_device_struct on the chrdevs[] hash:
  CHRDEV (major), NAME, CDEV (the struct cdev: char_device_struct.cdev,
  else the one cdev_add put in cdev_map for the range's first minor) and
  its file_operations, "(none)" without one; then the block devices,
  each blk_major_name on major_names[]: BLKDEV, NAME, GENDISK (the first
  gendisk of that major among blockdev_superblock's inodes) and its
  block_device_operations.
    -i  the I/O port and I/O memory resource trees (ioport_resource,
        iomem_resource), each struct resource before its children:
        RESOURCE, RANGE and the claimant's name.
    -p  PCI devices: crash 8.0.2 lists them from pci_root_buses; on a
        kernel without PCI one error line says so.
    -d, -D  disk I/O statistics: not supported (one error line).`,
		"ipcs": `NAME
  ipcs - System V IPC facilities

SYNOPSIS
  ipcs [-m | -s | -q]

DESCRIPTION
  init's IPC namespace (init_ipc_ns): shared memory segments (key, id,
  uid, permissions, bytes, attaches), semaphore arrays (number of
  semaphores) and message queues (bytes and messages queued), each from
  its ids[] IDR; "(none allocated)" for an empty kind.
    -m, -s, -q  one kind only.`,
		"waitq": `NAME
  waitq - list tasks queued on a wait queue

SYNOPSIS
  waitq symbol | struct.member address | address

DESCRIPTION
  The tasks on a wait_queue_head's list (each wait_queue_entry's
  private task), one crash task line each, or "wait queue ... is
  empty". The head is a symbol, a member of a structure at an address
  (waitq signal_struct.wait_chldexit ADDR), or an address.`,
		"search": `NAME
  search - search memory

SYNOPSIS
  search [-s start] [-e end | -l length] [-p] [-t] [-w | -h | -c] [-m mask] value ...

DESCRIPTION
  Each place a value sits in memory, "ADDRESS: VALUE". Without a range,
  all RAM the dump holds, by its linear-map address. Values are
  hexadecimal words (or symbols), aligned to their size.
    -s, -e, -l  the range: start and end, or start and length.
    -p  the addresses are physical.
    -t  the tasks' kernel stacks only.
    -w, -h  32-bit or 16-bit values.
    -c  a string (the rest of the line); 56 characters from each match.
    -m  bits to ignore in the comparison.`,
		"mount": `NAME
  mount - mounted file systems

SYNOPSIS
  mount

DESCRIPTION
  Each mount of the initial mount namespace: its struct mount and
  super_block, file system type, device name and directory (named as
  d_path does).`,
		"swap": `NAME
  swap - swap areas

SYNOPSIS
  swap

DESCRIPTION
  Each swap area in use (swap_info[], SWP_USED): its swap_info_struct,
  type (PARTITION or FILE), size and use in KB, percentage used, priority
  and file name; the header alone when the system has no swap.`,
		"vm": `NAME
  vm - virtual memory

SYNOPSIS
  vm [pid | taskp] ...

DESCRIPTION
  The task's mm_struct, page directory, RSS and total size, then each
  VMA: its vm_area_struct, start, end, flags and mapped file, walked from
  the mm's maple tree (6.1+), which crash 8.0.2 cannot read.`,
		"runq": `NAME
  runq - run queues

SYNOPSIS
  runq

DESCRIPTION
  Each CPU's runqueue: its current task, then the tasks queued on the RT
  priority array and in the CFS tree (group entities opened), "[prio]"
  each.`,
		"mach": `NAME
  mach - machine data

SYNOPSIS
  mach

DESCRIPTION
  Machine type, memory, CPUs, HZ (from tick_nsec), page size, the kernel's
  virtual, module and vmalloc bases (ARM) and its stack size.`,
		"files": `NAME
  files - open files

SYNOPSIS
  files [pid | taskp] ...

DESCRIPTION
  The task's root and working directory, then each open file: FD, struct
  file, dentry, inode, type (REG, DIR, CHR, BLK, FIFO, LNK, SOCK, UNKN for
  anonymous inodes) and path, named as d_path does across mounts.`,
		"mod": `NAME
  mod - loaded modules

SYNOPSIS
  mod [-s module [objfile] | -S [directory]]

DESCRIPTION
  Each module's struct module, name, core base and size; "no modules
  installed" when there are none.
    -s  find module's object file, objfile or module.ko under the build
        tree the vmlinux is in ('-' and '_' alike), and take it when it
        is that module for this kernel: an ELF relocatable object of the
        dump's machine whose .modinfo names the module and whose vermagic
        is the dump's release. mod then shows it as the OBJECT FILE.
    -S  the same for every loaded module, under directory (default: the
        vmlinux's directory). Its DWARF is not merged into the types.`,
		"ps": `NAME
  ps - display process status information

SYNOPSIS
  ps [-p | -c | -G | -t | -[l|m] [-C cpus] | -S] [pid | taskp | command] ...

DESCRIPTION
  PID PPID CPU TASK ST %MEM VSZ RSS COMM for every task; kernel threads in
  [brackets]; '>' marks the task active on a CPU.
    -p  the parental hierarchy of the given (or current) task.
    -c  the children of the given (or current) task, threads included.
    -G  thread group leaders only: one line a process.
    -t  run time, start time (ns) and user and system time (ns), oldest
        first; crash 8.0.2 prints 0 for the CPU times of a 32-bit kernel.
    -l  the last-run timestamp (ns), most recent first, "[stamp] [ST]"
        and the task: sched_info.last_arrival as crash reads it, or on a
        kernel without SCHED_INFO (crash: "last-run timestamps do not
        exist") se.exec_start.
    -m  -l as the time since, "[days hh:mm:ss.mss]", from the task's
        runqueue clock (clock_task for se.exec_start).
    -C cpus  with -l or -m: a block per CPU ("1,3,5-7", "all" or "a").
    -S  how many tasks are in each state.
  RSS is the kernel's get_mm_rss (file, anon and shmem pages) summed over
  every thread's unsynced counts; crash 8.0.2 leaves shmem out.`,
		"bt": `NAME
  bt - backtrace

SYNOPSIS
  bt [-a] [-f | -F | -FF] [-l] [-t | -e | -r] [pid | taskp]

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
    -f  the stack words of each frame.
    -l  the source file and line of each frame, from the DWARF line
        table (an inlined callee's own line where the call was inlined).
    -F  -f with each word that lies inside a kernel symbol named
        "symbol+offset", and one that points into a slab object named by
        its cache, "[cache]".
    -FF -F with the slab object's address too, "[object:cache]".
    -t  no unwinding: every kernel text address on the stack, from the
        first frame's sp up, "[where] symbol at value".
    -e  no unwinding: every exception frame (struct pt_regs) on the whole
        stack, "KERNEL-MODE" or "USER-MODE EXCEPTION FRAME AT: addr" and
        its registers, as crash's arm64 port finds them: a kernel frame
        in SVC mode (arm64: EL1h/EL2h) with pc and lr in kernel text and
        sp on the stack (crash_setup_regs' copy of the panic registers
        is one), a user frame at the top of the stack.
    -r  no unwinding: the whole stack, from its lowest address, as
        rd -s prints it.`,
		"set": `NAME
  set - set a process context, or the scroll setting

SYNOPSIS
  set [pid | taskp | -c cpu | -p]
  set scroll [on | off]

DESCRIPTION
  Shows or sets the current context used by bt, ps -p/-c and task.
    -c cpu  the task active on cpu.
    -p      the panic task.
  scroll on sends each command's output through a pager ($PAGER, else
  less -F -X -R); an interactive session on a terminal starts with it on,
  -c, -i and output to a pipe or file never page.`,
		"struct": `NAME
  struct - structure contents

SYNOPSIS
  struct name[.member[,member]] [-o] [-l offset] [address | symbol] [count]

DESCRIPTION
  Without an address, the layout (-o: with member offsets); with one, the
  contents as gdb prints them: the whole struct, or "  member = value,"
  for each member asked for, count structs in a row. "name address" works
  too when name is a struct.
    -o  with an address: the layout with each member's address.
    -l  the address points at this member (struct.member, or a byte
        offset) of the struct, as a list_head inside it does.`,
		"union": `NAME
  union - union contents

SYNOPSIS
  union name[.member[,member]] [-o] [-l offset] [address | symbol] [count]

DESCRIPTION
  As struct, for a union.`,
		"whatis": `NAME
  whatis - a symbol's or type's declaration

SYNOPSIS
  whatis [-o] symbol | type | struct name | union name

DESCRIPTION
  A variable's or function's declaration, or a type's definition and size.
    -o  member offsets.`,
		"list": `NAME
  list - linked list enumerator

SYNOPSIS
  list [-o offset] [-s struct[.member[,member]]] [-r] [-h | -H] start

DESCRIPTION
  The address of each entry of a list linked through an embedded next
  pointer (a struct list_head): offset is where the link sits in each
  entry, a number or struct.member (also accepted alone before start).
    -h  start is an entry (the default).
    -H  start is a list head outside the entries; it is not printed, and
        an empty list prints "(empty)".
    -s  after each address, the struct there, or the members named.
    -r  follow the prev pointer (the word after next).
  A node met twice ends the walk with "duplicate list entry".`,
		"tree": `NAME
  tree - display a red-black tree, XArray (radix tree) or maple tree

SYNOPSIS
  tree [-t rbtree|radix|xarray|maple] [-r offset] [-o offset]
       [-s|-S struct[.member[,member]]] [-x|-d] [-l] [-p] [-N] start

DESCRIPTION
  start is an address or symbol: the tree's root (struct rb_root, xarray
  or maple_tree), or a struct holding it at -r's offset; with -N a node
  (rb_node, xa_node, or an encoded maple node pointer). Offsets are a
  number or struct.member.
    -t  the tree type; rb, ra, x and m abbreviate; rbtree by default. A
        radix tree is an XArray since 4.20 and is read as one.
    -o  rbtree: where the rb_node sits in each entry; the entry's address
        (the node less the offset) is printed.
    -l  rbtree: in order, from the leftmost node; by default a node comes
        before its left and right subtrees, as crash prints them.
    -p  each entry's position: "root/l/r" for an rbtree, its index and
        slot path for an XArray, its index range for a maple tree.
    -s  the struct at each entry, or the members named (-S is the same).
    -x  -s's integers in hex; -d in decimal.
  An XArray or maple tree prints each non-NULL entry in index order,
  internal entries (siblings, retries, a node's metadata) left out. A
  node met twice, a corrupt shift or over 1048576 entries end the walk
  with one error line naming the node.`,
		"sym": `NAME
  sym - translate a symbol to its address or vice versa

SYNOPSIS
  sym address | symbol
  sym -l
  sym -q string
  sym -m module

DESCRIPTION
  "address (type) name[+offset]"; the type is nm's letter: T/t text,
  D/d data, R/r read-only data, B/b bss, A absolute, W weak, upper case
  for global symbols.
  A text symbol's source file and line follow, as crash prints them.
    -l  every symbol, by address.
    -q  every symbol whose name contains string.
    -m  a loaded module's symbols from its kallsyms, by address, between
        "MODULE START: name" and "MODULE END: name".`,
		"rd": `NAME
  rd - read memory

SYNOPSIS
  rd [-8|-16|-32|-64] [-s|-S] [-x] [-a] [-p] address | symbol [count]

DESCRIPTION
  count units of kernel virtual memory in hex, 16 bytes a line, with
  their ASCII. The unit is the kernel's word unless:
    -8, -16, -32, -64  the unit's size in bits.
    -s, -S  values that fall inside a kernel symbol print as symbol+offset
            (no ASCII).
    -x      no ASCII column.
    -a      the memory as a string, up to its NUL (or count bytes), 60
            characters a line.
    -p      address is physical.`,
		"net": `NAME
  net - network devices

SYNOPSIS
  net

DESCRIPTION
  Each struct net_device of the initial namespace (init_net.dev_base_head)
  with its name and IPv4 addresses (ip_ptr->ifa_list), as crash lists
  them.`,
		"vtop": `NAME
  vtop - virtual address to physical

SYNOPSIS
  vtop address | symbol ...

DESCRIPTION
  The physical address the dumped MMU maps a kernel virtual address to:
  the linear map, or a walk of swapper_pg_dir for vmalloc and stacks.
  (crash also prints the page-table entries and the page; this prints the
  translation.)`,
		"ptov": `NAME
  ptov - physical address to virtual

SYNOPSIS
  ptov physical ...

DESCRIPTION
  The linear-map address of a physical address (hexadecimal), through the
  dump's PT_LOAD that covers it.`,
		"btop": `NAME
  btop - bytes to page

SYNOPSIS
  btop address ...

DESCRIPTION
  The page frame number of a hexadecimal address.`,
		"ptob": `NAME
  ptob - page to bytes

SYNOPSIS
  ptob page_number ...

DESCRIPTION
  The address of a page frame number: decimal, or hexadecimal with 0x, as
  crash reads it.`,
		"dis": `NAME
  dis - disassemble

SYNOPSIS
  dis [-l] [-r] address | symbol | expression [count]

DESCRIPTION
  Instructions in gdb's syntax, "0xADDR <symbol+offset>:	op	operands",
  branch targets named. A function's name without a count disassembles
  the whole function; an address alone, one instruction. Code is read
  from the dump. ARM (ARM state), arm64 and x86_64.
    -l  each source line's file and number before its instructions.
    -r  from the start of the function up to and including address.`,
		"eval": `NAME
  eval - evaluate an expression

SYNOPSIS
  eval [-b] expression

DESCRIPTION
  The value of a C expression (as p takes it: numbers, symbols, members,
  casts, arithmetic) in hexadecimal, with its size when it is a whole
  number of KB, MB or GB, decimal (and the negative value of a word with
  its top bit set), octal and binary.
    -b  the numbers of the bits set.`,
		"ascii": `NAME
  ascii - translate a value to ASCII

SYNOPSIS
  ascii [value ...]

DESCRIPTION
  Each hexadecimal value's eight bytes as characters, least significant
  first, control characters by name (<NUL>); without a value, the table.`,
		"p": `NAME
  p - print the value of an expression

SYNOPSIS
  p expression
  px expression
  pd expression

DESCRIPTION
  A C expression over the dump, printed as crash's gdb prints it, "$N =
  value" ("name = $N = value" for a variable): variables, members (a.b,
  p->b), array indexes, &, *, casts ((struct task_struct *)ADDR), sizeof,
  arithmetic, and name:cpu for a per-CPU variable's copy (p runqueues:0).
  Pointers show the symbol they point into, chars their character.
    px  integers in hexadecimal.
    pd  integers in decimal.`,
		"px": "NAME\n  px - p with integers in hexadecimal (help p)",
		"pd": "NAME\n  pd - p with integers in decimal (help p)",
		"task": `NAME
  task - task_struct contents

SYNOPSIS
  task [-R member[,member]] [pid | taskp] ...

DESCRIPTION
  The task_struct of the current (or each given) task after its header.
    -R  only these members (paths such as se.on_rq), one "name = value,"
        line each, then a blank line.`,
		"foreach": `NAME
  foreach - run a command for each task

SYNOPSIS
  foreach [pid | taskp | name | state | kernel | user | active] ... command [flags]

DESCRIPTION
  Runs bt, task, files, vm, ps or set with its flags for every task the
  selectors pick (all tasks without one): PIDs, task addresses, command
  names, states (RU, IN, UN, ID, ST, TR, ZO, DE...), kernel or user
  threads, the tasks active on a CPU.`,
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
