package commands

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/kdumpkit/kdumpkit/internal/testdump"
)

// devRow is one line of dev's listing: major, name, address, operations.
var devRow = regexp.MustCompile(`(?m)^ +(\d+) +(\S+) +(?:([0-9a-f]+)  (\S+)|\(none\) )$`)

// devRows splits dev's output into its character and block rows.
func devRows(t *testing.T, out string) (chr, blk [][]string) {
	t.Helper()
	c, b, ok := strings.Cut(out, "\n\nBLKDEV ")
	if !ok || !strings.HasPrefix(c, "CHRDEV    NAME ") {
		t.Fatalf("dev: not crash's two tables:\n%s", out)
	}
	return devRow.FindAllStringSubmatch(c, -1), devRow.FindAllStringSubmatch(b, -1)
}

// checkDev checks a dump's dev listing against facts read another way:
// the majors well-known drivers register (with their file_operations),
// every CDEV's ->ops and GENDISK's ->fops and ->major read back with p,
// and the rows in the kernel's hash order (major % 255 never falls).
func checkDev(t *testing.T, s *Session, wantChr map[string]string, wantBlk map[string]string, disks map[string]string) {
	t.Helper()
	chr, blk := devRows(t, run(t, s, "dev"))
	if len(chr) < len(wantChr) || len(blk) < len(wantBlk) {
		t.Fatalf("dev: %d character and %d block rows", len(chr), len(blk))
	}
	for kind, rows := range map[string][][]string{"chr": chr, "blk": blk} {
		prev := -1
		for _, r := range rows {
			major, _ := strconv.Atoi(r[1])
			if major%255 < prev {
				t.Errorf("dev %s: major %d (bucket %d) after bucket %d", kind, major, major%255, prev)
			}
			prev = major % 255
		}
	}
	have := func(rows [][]string, want map[string]string) {
		for key, ops := range want {
			found := false
			for _, r := range rows {
				found = found || r[1]+" "+r[2] == key && r[4] == ops
			}
			if !found {
				t.Errorf("dev: no row %q with operations %s", key, ops)
			}
		}
	}
	have(chr, wantChr)
	have(blk, wantBlk)
	for _, r := range chr {
		if r[3] == "" {
			continue
		}
		if ops := valueOf(run(t, s, "p ((struct cdev *)0x"+r[3]+")->ops")); !strings.Contains(ops, "<"+r[4]+">") {
			t.Errorf("dev: cdev %s of %s has ops %s, row says %s", r[3], r[2], ops, r[4])
		}
	}
	for _, r := range blk {
		if r[3] == "" {
			continue
		}
		g := "((struct gendisk *)0x" + r[3] + ")"
		if ops := valueOf(run(t, s, "p "+g+"->fops")); !strings.Contains(ops, "<"+r[4]+">") {
			t.Errorf("dev: gendisk %s has fops %s, row says %s", r[3], ops, r[4])
		}
		if m := strings.TrimSpace(valueOf(run(t, s, "p "+g+"->major"))); m != r[1] {
			t.Errorf("dev: gendisk %s has major %s, row says %s", r[3], m, r[1])
		}
		if want, ok := disks[r[1]]; ok {
			if name := valueOf(run(t, s, "p "+g+"->disk_name")); !strings.HasPrefix(strings.TrimSpace(name), `"`+want+`\`) {
				t.Errorf("dev: gendisk %s of major %s is %s, want %s", r[3], r[1], name, want)
			}
		}
	}
}

// TestDev: on the vexpress dump the majors of the drivers the 6.1
// defconfig builds in (Documentation/admin-guide/devices.txt: 1 mem, 4
// tty, 5 console, 10 misc, 136 pts, 204 ttyAMA for the PL011 the console
// runs on; block 31 mtdblock, 254 virtblk whose disk is vda, 259 blkext).
func TestDev(t *testing.T) {
	s, _ := openReference(t)
	checkDev(t, s,
		map[string]string{"1 mem": "memory_fops", "4 tty": "tty_fops", "5 /dev/console": "console_fops",
			"10 misc": "misc_fops", "136 pts": "tty_fops", "204 ttyAMA": "tty_fops"},
		map[string]string{"254 virtblk": "virtblk_fops", "31 mtdblock": "mtd_block_ops"},
		map[string]string{"254": "vda"})
	if !regexp.MustCompile(`(?m)^ 259      blkext           \(none\) $`).MatchString(run(t, s, "dev")) {
		t.Errorf("dev: no blkext row without a gendisk")
	}
}

// TestDevArm64: the 64-bit columns on the arm64 6.12 dump (allnoconfig
// and fragments: mem, tty, the PL011's ttyAMA, virtio-blk's vda).
func TestDevArm64(t *testing.T) {
	d := testdump.RequireBoard(t, "arm64")
	s := openDump(t, d.Vmlinux, d.Vmcore)
	out := run(t, s, "dev")
	if !strings.HasPrefix(out, "CHRDEV    NAME                 CDEV        OPERATIONS      \n") {
		t.Errorf("dev: 64-bit header:\n%s", out)
	}
	checkDev(t, s,
		map[string]string{"1 mem": "memory_fops", "4 tty": "tty_fops", "204 ttyAMA": "tty_fops"},
		map[string]string{"254 virtblk": "virtblk_fops"},
		map[string]string{"254": "vda"})
}

// TestDevBadInput: options dev has not, or cannot answer here, are one
// error line naming why.
func TestDevBadInput(t *testing.T) {
	s, _ := openReference(t)
	for line, want := range map[string]string{
		"dev -x":    `unknown option "-x"`,
		"dev a b":   "usage",
		"dev -d":    "not supported",
		"dev -D":    "not supported",
		"dev -p":    "-p option not supported or applicable on this architecture or kernel",
		"dev -p 1":  "usage",
		"dev -i -p": "usage",
	} {
		var out, errw bytes.Buffer
		err := s.Exec(line, &out, &errw)
		if err == nil || !strings.Contains(errw.String(), want) || strings.Count(errw.String(), "\n") != 1 || out.Len() != 0 {
			t.Errorf("%q: err %v, stderr %q, stdout %q; want one line with %q", line, err, errw.String(), out.String(), want)
		}
	}
}

// TestDevIO: dev -i's trees on the vexpress dump hold what the board and
// the kernel's own symbols say: 512 MiB of System RAM at 0x60000000,
// "Kernel code" is mem_res[1] (arch/arm/kernel/setup.c) starting at _text's
// physical address, and every entry lies inside its parent's range.
func TestDevIO(t *testing.T) {
	s, _ := openReference(t)
	out := run(t, s, "dev -i")
	text, _ := s.Kernel.Syms.Addr("_text")
	m := regexp.MustCompile(`(?m)^[0-9a-f]+ +([0-9a-f]+)$`).FindStringSubmatch(run(t, s, fmt.Sprintf("vtop %x", text)))
	if m == nil {
		t.Fatalf("vtop _text: no physical address")
	}
	memRes, err := s.Kernel.Syms.Addr("mem_res")
	if err != nil {
		t.Fatal(err)
	}
	size, _ := s.Kernel.Types.Size("struct resource")
	code := memRes + uint64(size)
	// setup.c: Kernel code ends at __init_begin - 1, in the linear map.
	initBegin, _ := s.Kernel.Syms.Addr("__init_begin")
	phys, _ := strconv.ParseUint(m[1], 16, 64)
	kernelCode := fmt.Sprintf("%8x  %08x-%08x  Kernel code\n", code, phys, phys+initBegin-1-text)
	for _, want := range []string{"60000000-7fffffff  System RAM", kernelCode} {
		if !strings.Contains(out, want) {
			t.Errorf("dev -i lacks %q:\n%s", want, out)
		}
	}
	for _, root := range []string{"ioport_resource", "iomem_resource"} {
		rs, err := s.Kernel.Resources(root)
		if err != nil || len(rs) < 2 && root == "iomem_resource" {
			t.Fatalf("%s: %d entries, %v", root, len(rs), err)
		}
		var parents []int
		for i, r := range rs {
			parents = append(parents[:r.Depth], i)
			if r.Depth == 0 {
				continue
			}
			if p := rs[parents[r.Depth-1]]; r.Start < p.Start || r.End > p.End || r.Start > r.End {
				t.Errorf("%s: %s %x-%x outside its parent %s %x-%x", root, r.Name, r.Start, r.End, p.Name, p.Start, p.End)
			}
		}
	}
}
