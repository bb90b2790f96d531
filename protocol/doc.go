// Package protocol is the contract between the host and the board: the
// console lines the host watches for, the kernel parameters the board's
// init reads, and the dump-target list both sides parse. Both ends import
// this one package, so a change to the protocol is one change.
//
// It depends on the standard library's text packages only: the board's
// init (cmds/kdumpinit) links it and nothing else of kdumpkit, which
// keeps net/http and TLS out of the initramfs's init.
package protocol
