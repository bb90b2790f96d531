// Package hostcheck finds the host programs and headers a board's kernel
// build and QEMU run need, and installs the missing ones with Debian's
// apt-get when it may (root on Debian or Ubuntu), or prints the exact
// command to run.
package hostcheck
