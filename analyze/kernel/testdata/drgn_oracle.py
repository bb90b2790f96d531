# The drgn side of TestArm64AgainstDrgn: python3 drgn_oracle.py VMLINUX VMCORE THREAD_SIZE
# prints, as JSON, the panic task (PID, CPU, backtrace), the task each online
# CPU ran (bt -a), and every task drgn's for_each_task finds (PID, comm,
# backtrace, and the sha256 of its kernel stack as drgn reads it through the
# page tables: VMAP_STACK stacks are vmalloc'ed). A backtrace is the function
# symbol of each physical frame (inlined frames left out, as bt shows them).
#
# The panic task is per_cpu(runqueues, panic_cpu).curr: drgn 0.0.22's
# prog.crashed_thread() takes CPU 0's NT_PRSTATUS, wrong on SMP when
# another CPU panicked.
import hashlib
import json
import sys

import drgn
from drgn.helpers.linux.cpumask import for_each_present_cpu
from drgn.helpers.linux.percpu import per_cpu
from drgn.helpers.linux.pid import for_each_task

prog = drgn.Program()
prog.set_core_dump(sys.argv[2])
prog.load_debug_info([sys.argv[1]])


def frames(task):
    try:
        trace = prog.stack_trace(task)
    except Exception as e:  # a task drgn cannot unwind: say why
        return {"error": str(e)}
    out = []
    for f in trace:
        if f.is_inline:
            continue
        try:
            out.append(f.symbol().name)
        except LookupError:
            out.append(hex(f.pc))
    return out


STACK_SIZE = int(sys.argv[3])
cpu = prog["panic_cpu"].counter.value_()
panic = per_cpu(prog["runqueues"], cpu).curr
result = {
    "panic": {"pid": panic.pid.value_(), "cpu": cpu, "frames": frames(panic)},
    "active": [
        {"cpu": c, "pid": per_cpu(prog["runqueues"], c).curr.pid.value_(), "frames": frames(per_cpu(prog["runqueues"], c).curr)}
        for c in for_each_present_cpu(prog)
    ],
    "tasks": [
        {
            "pid": t.pid.value_(),
            "comm": t.comm.string_().decode(errors="replace"),
            "frames": frames(t),
            "stack": t.stack.value_(),
            "stack_sha256": hashlib.sha256(prog.read(t.stack.value_(), STACK_SIZE)).hexdigest(),
        }
        for t in for_each_task(prog)
    ],
}
json.dump(result, sys.stdout)
