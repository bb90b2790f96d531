// Package reference locates the known-good ARM32 kdump run that
// shared/tools/reference-vmcore.sh makes with Debian's own packages
// (vmlinux, vmcore, console.log, kexec-debug.txt, zImage, dtb): tests use
// it as a fixture and an oracle when it is present and skip otherwise.
package reference

import (
	"os"
	"path/filepath"
	"testing"
)

// Dir is $KDUMPKIT_REFERENCE_DIR, or the script's default
// ~/.cache/kdk-reference.
func Dir() string {
	if d := os.Getenv("KDUMPKIT_REFERENCE_DIR"); d != "" {
		return d
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "kdk-reference")
}

// Path is a file of the reference run.
func Path(name string) string { return filepath.Join(Dir(), name) }

// Require skips tb unless every named file of the reference run exists,
// and returns the directory.
func Require(tb testing.TB, names ...string) string {
	tb.Helper()
	for _, n := range names {
		if _, err := os.Stat(Path(n)); err != nil {
			tb.Skipf("no reference run (%v): make one with shared/tools/reference-vmcore.sh or set KDUMPKIT_REFERENCE_DIR", err)
		}
	}
	return Dir()
}
