package crashoracle

import (
	"strings"
	"testing"
)

func TestSplit(t *testing.T) {
	out := "WARNING: startup\n" + marker + "0===\nfirst\nanswer\n" + marker + "1===\n" + marker + "2===\nbye\n"
	answers, pre, err := split(out, 2)
	if err != nil {
		t.Fatal(err)
	}
	if pre != "WARNING: startup\n" || answers[0] != "first\nanswer\n" || answers[1] != "" {
		t.Errorf("split = %q, %q", answers, pre)
	}
	if _, _, err := split("crash: cannot open vmcore\n", 1); err == nil || !strings.Contains(err.Error(), "cannot open") {
		t.Errorf("no markers: %v", err)
	}
	if _, _, err := split(marker+"0===\nhalf", 1); err == nil {
		t.Error("an answer cut short was accepted")
	}
}

func TestFindMissing(t *testing.T) {
	t.Setenv(RootEnv, t.TempDir())
	if _, err := Find("armhf"); err == nil || !strings.Contains(err.Error(), "apt-get download crash:armhf") {
		t.Errorf("Find without crash: %v, want how to install it", err)
	}
	if _, err := Find("mips"); err == nil {
		t.Error("Find for an unknown architecture succeeded")
	}
}
