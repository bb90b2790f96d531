//go:build ignore

// mage.go lets `go run mage.go TARGET…` work with no mage installed: it
// runs Mage (github.com/magefile/mage) from this module's dependencies.
package main

import (
	"os"

	"github.com/magefile/mage/mage"
)

func main() { os.Exit(mage.Main()) }
