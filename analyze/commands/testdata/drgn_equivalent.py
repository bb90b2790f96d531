#!/usr/bin/env python3
"""What `kdumpkit analyze -c "sys; ps; log; bt"` does, done with drgn, for
the analyzer benchmark: release, task walk, printk records. drgn 0.0.22
cannot unwind ARM stacks from a core dump, so there is no bt part.
usage: drgn_equivalent.py VMLINUX VMCORE"""
import sys

import drgn
from drgn.helpers.linux.pid import for_each_task
from drgn.helpers.linux.printk import get_printk_records

prog = drgn.Program()
prog.set_core_dump(sys.argv[2])
prog.load_debug_info([sys.argv[1]])
release = prog["init_uts_ns"].name.release.string_().decode()
tasks = [(t.pid.value_(), t.comm.string_().decode()) for t in for_each_task(prog)]
records = get_printk_records(prog)
print(f"release {release} tasks {len(tasks)} records {len(records)}")
# VmHWM is this process's own peak RSS; getrusage's maxrss would also count
# the parent's pages from before exec.
with open("/proc/self/status") as f:
    print(next(line for line in f if line.startswith("VmHWM:")).strip())
