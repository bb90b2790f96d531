package main

import (
	"testing"

	"github.com/kdumpkit/kdumpkit/kexec"
)

func TestParseFlagsAroundKernel(t *testing.T) {
	o, err := parse([]string{"-d", "-p", "/kdump/kernel", "--initrd=/kdump/i.gz", "--dtb=/sys/firmware/fdt", "--append=console=ttyAMA0 maxcpus=1"})
	if err != nil {
		t.Fatal(err)
	}
	if !o.panic || !o.debug || o.kernel != "/kdump/kernel" || o.initrd != "/kdump/i.gz" || o.append != "console=ttyAMA0 maxcpus=1" {
		t.Errorf("%+v", o)
	}
	if _, err := parse([]string{"-p", "a", "b"}); err == nil {
		t.Error("two kernels accepted")
	}
	if err := run([]string{"--type", "uImage", "-p", "k"}); err == nil {
		t.Error("bad --type accepted")
	}
}

func TestParseMethod(t *testing.T) {
	for _, c := range []struct {
		args []string
		want kexec.Method
	}{
		{[]string{"-p", "k"}, ""}, // kexec.Load takes "" as auto
		{[]string{"-p", "-c", "k"}, kexec.MethodLoad},
		{[]string{"-s", "-p", "k"}, kexec.MethodFile},
		{[]string{"-p", "k", "--kexec-syscall-auto"}, kexec.MethodAuto},
		{[]string{"--kexec-syscall", "-c", "-p", "k"}, kexec.MethodLoad}, // the same one twice is fine
	} {
		o, err := parse(c.args)
		if err != nil || o.method != c.want {
			t.Errorf("%q: method %q, %v; want %q", c.args, o.method, err, c.want)
		}
	}
	for _, bad := range [][]string{{"-s", "-c", "-p", "k"}, {"-a", "-p", "k", "--kexec-file-syscall"}, {"-c=false", "-p", "k"}} {
		if _, err := parse(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
