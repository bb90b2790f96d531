# The drgn side of TestOraclesReadMakedumpfilesFile:
#   python3 drgn_view.py VMLINUX VMCORE THREAD_SIZE < physical-addresses.json
# prints, as JSON, what drgn (through libkdumpfile, for a kdump-compressed
# VMCORE) reads in the dump: init_uts_ns, the panic message, every printk
# record, every task — those for_each_task finds and each CPU's idle task,
# which is on no task list — with its state letter (task_state_to_char,
# ps(1)'s letters), raw __state and exit_state, kernel stack base and the
# stack pointer saved at its last switch (thread.cpu_context.sp), the 8
# words from that saved SP up and the 8 words at the top of its
# THREAD_SIZE stack, and the 64-bit word at each physical address read
# from stdin, or "excluded" where drgn faults on it.
import json
import sys

import drgn
from drgn.helpers.linux.cpumask import for_each_possible_cpu
from drgn.helpers.linux.pid import for_each_task
from drgn.helpers.linux.printk import get_printk_records
from drgn.helpers.linux.sched import idle_task, task_state_to_char

prog = drgn.Program()
prog.set_core_dump(sys.argv[2])
prog.load_debug_info([sys.argv[1]])
THREAD_SIZE = int(sys.argv[3])
phys = json.load(sys.stdin)


def words(addr, n):
    return [prog.read_u64(addr + 8 * i) for i in range(n)]


def task(t):
    stack = t.stack.value_()
    sp = t.thread.cpu_context.sp.value_()
    return {
        "addr": t.value_(),
        "pid": t.pid.value_(),
        "comm": t.comm.string_().hex(),
        "state": task_state_to_char(t),
        "raw_state": t.__state.value_(),
        "exit_state": t.exit_state.value_(),
        "stack": stack,
        "sp": sp,
        "sp_words": words(sp, 8),
        "top_words": words(stack + THREAD_SIZE - 64, 8),
    }


def phys_word(addr):
    try:
        return {"addr": addr, "word": prog.read_u64(addr, True)}
    except drgn.FaultError as e:
        return {"addr": addr, "excluded": True, "error": str(e)}


uts = prog["init_uts_ns"].name
records = get_printk_records(prog)
PANIC = b"Kernel panic - not syncing: "
panic = next((r.text[r.text.index(PANIC) + len(PANIC):] for r in records if PANIC in r.text), b"")
tasks = [idle_task(prog, c) for c in for_each_possible_cpu(prog)] + list(for_each_task(prog))
view = {
    "uts": {f: getattr(uts, f).string_().decode() for f in ("sysname", "nodename", "release", "version", "machine")},
    "panic": panic.decode(errors="replace"),
    "log": [{"seq": r.seq, "ts": r.timestamp, "level": r.level, "text": r.text.hex()} for r in records],
    "tasks": [task(t) for t in tasks],
    "phys": [phys_word(a) for a in phys],
}
json.dump(view, sys.stdout)
