// Command kdumpkit is the host side of kdumpkit: the crash-like analyzer
// and the tools around dumps. `kdumpkit help` lists the subcommands.
package main

import (
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
