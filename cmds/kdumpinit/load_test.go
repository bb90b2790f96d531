package main

import (
	"testing"

	"github.com/kdumpkit/kdumpkit/protocol"
)

// TestKexecMethodFlags: every value kdumpkit.kexec= accepts becomes one
// of kexec-tools' flags, so the setting always reaches kexec.
func TestKexecMethodFlags(t *testing.T) {
	for _, m := range []string{protocol.KexecAuto, protocol.KexecFile, protocol.KexecLoad} {
		c := protocol.DefaultConfig()
		if errs := c.ApplyCmdline("kdumpkit.kexec=" + m); len(errs) > 0 || kexecMethodFlags[c.Kexec] == "" {
			t.Errorf("kdumpkit.kexec=%s: flag %q (%v)", m, kexecMethodFlags[c.Kexec], errs)
		}
	}
}

// TestHowLoaded: the READY line carries kexec's own account of the load.
func TestHowLoaded(t *testing.T) {
	got := howLoaded("kexec: loaded with kexec_load (kexec_file_load could not: ENOSYS)\n", "auto")
	if want := "loaded with kexec_load (kexec_file_load could not: ENOSYS) (kdumpkit.kexec=auto)"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
	if got := howLoaded("", "load"); got != "loaded (kdumpkit.kexec=load)" {
		t.Errorf("no output: %q", got)
	}
}
