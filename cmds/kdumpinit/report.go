package main

import (
	"fmt"
	"io"
)

// report prints the settings the init refused, each with where it came
// from; the init goes on with the value it had.
func report(w io.Writer, source string, errs []error) {
	for _, err := range errs {
		fmt.Fprintf(w, "kdumpinit: %s: ignored: %v\n", source, err)
	}
}
