#!/usr/bin/env python3
"""The part of `kdumpkit analyze -c "sys; bt; ps; log"` that drgn 0.0.22
can do on an ARM32 vmcore, for the analyzer benchmark. It prints what it
reads, as the analyzer does:
  sys: release, version, machine, nodename, task count, jiffies, panic task
  ps:  every task's pid, ppid, cpu, state letter and comm (no memory columns)
  log: every printk record with its timestamp
  bt:  nothing: drgn 0.0.22 cannot unwind ARM32 stacks from a core dump.
The last line is this process's peak RSS (VmHWM), since getrusage's maxrss
would also count the parent's pages from before exec.
usage: drgn_equivalent.py VMLINUX VMCORE"""
import sys

import drgn
from drgn.helpers.linux.pid import for_each_task
from drgn.helpers.linux.printk import get_printk_records
from drgn.helpers.linux.sched import task_cpu, task_state_to_char

prog = drgn.Program()
prog.set_core_dump(sys.argv[2])
prog.load_debug_info([sys.argv[1]])
out = []
uts = prog["init_uts_ns"].name
for field in ("release", "version", "machine", "nodename"):
    out.append(f"{field.upper():>12}: {getattr(uts, field).string_().decode()}")
tasks = list(for_each_task(prog))
out.append(f"{'TASKS':>12}: {len(tasks)}")
out.append(f"{'JIFFIES':>12}: {prog['jiffies_64'].value_()}")
try:
    crashing = prog.crashed_thread().object
    out.append(f"{'PANIC TASK':>12}: {crashing.pid.value_()} {crashing.comm.string_().decode()}")
except (LookupError, ValueError, NotImplementedError) as e:
    out.append(f"{'PANIC TASK':>12}: ({e})")
out.append("   PID    PPID  CPU  ST  COMM")
for t in tasks:
    out.append(
        f"{t.pid.value_():>6}  {t.real_parent.pid.value_():>6}  {task_cpu(t):>3}  "
        f"{task_state_to_char(t):>2}  {t.comm.string_().decode()}"
    )
for r in get_printk_records(prog):
    out.append(f"[{r.timestamp // 10**9:5d}.{r.timestamp % 10**9 // 1000:06d}] {r.text.decode(errors='replace')}")
print("\n".join(out))
with open("/proc/self/status") as f:
    print(next(line for line in f if line.startswith("VmHWM:")).strip())
