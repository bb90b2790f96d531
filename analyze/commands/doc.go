// Package commands implements crash-style commands (sys, log, ps, bt, set,
// struct, whatis, sym, rd, help, q) on top of the analyzer's helpers, in the
// output shapes of the crash utility's white paper, plus the interactive
// prompt with its "|" pipes and ">"/">>" redirects.
package commands
