package main

import "testing"

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
