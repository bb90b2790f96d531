// Package commands implements crash-style commands (sys, log, ps, bt, set,
// struct, union, whatis, sym, rd, p, px, pd, eval, ascii, vtop, ptov, btop,
// ptob, dis, list, tree, kmem, task, files, runq, mod, net, mach, foreach, irq,
// timer, sig, ipcs, waitq, dev, help, q) on top of the analyzer's helpers, in the output shapes of the crash utility's white
// paper, plus the interactive prompt with its "|" pipes and ">"/">>"
// redirects.
//
// Commands parse their flags, call helpers of analyze/kernel and format
// what they return; opening a dump is kernel.Open's.
//
// API: Open(vmlinux, vmcore, cacheDir, warn) gives a *Session over
// kernel.Open's Program (context: the panic task); Exec runs command lines
// as the prompt does, Prompt runs the interactive loop. For programs
// comparing a dump with ground truth (the kdump:test target), Sys, PS,
// Backtrace and Printk return the same data as structs; NewSession builds
// a session from a kernel.Image and kernel.Dump of the caller's.
package commands
