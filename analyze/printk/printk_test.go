package printk

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/kdumpkit/kdumpkit/analyze/arch"
	"github.com/kdumpkit/kdumpkit/analyze/dump"
	"github.com/kdumpkit/kdumpkit/analyze/vmcoreinfo"

	"github.com/kdumpkit/kdumpkit/internal/testdump"
)

// flat is kernel memory for tests: one byte slice at a virtual base.
type flat struct {
	base uint64
	b    []byte
}

func (f *flat) ReadVirt(addr uint64, buf []byte) error {
	if addr < f.base || addr+uint64(len(buf)) > f.base+uint64(len(f.b)) {
		return fmt.Errorf("%#x not mapped", addr)
	}
	copy(buf, f.b[addr-f.base:])
	return nil
}

// The 32-bit layout of the reference kernel (6.1 ARM), from its VMCOREINFO.
const info32 = `SYMBOL(prb)=80000000
SIZE(printk_ringbuffer)=44
OFFSET(printk_ringbuffer.desc_ring)=0
OFFSET(printk_ringbuffer.text_data_ring)=24
OFFSET(prb_desc_ring.count_bits)=0
OFFSET(prb_desc_ring.descs)=4
OFFSET(prb_desc_ring.infos)=8
OFFSET(prb_desc_ring.head_id)=12
OFFSET(prb_desc_ring.tail_id)=16
SIZE(prb_desc)=12
OFFSET(prb_desc.state_var)=0
OFFSET(prb_desc.text_blk_lpos)=4
OFFSET(prb_data_blk_lpos.begin)=0
OFFSET(prb_data_blk_lpos.next)=4
SIZE(printk_info)=88
OFFSET(printk_info.seq)=0
OFFSET(printk_info.ts_nsec)=8
OFFSET(printk_info.text_len)=16
OFFSET(printk_info.caller_id)=20
OFFSET(printk_info.dev_info)=24
OFFSET(dev_printk_info.subsystem)=0
OFFSET(dev_printk_info.device)=16
LENGTH(printk_info_subsystem)=16
LENGTH(printk_info_device)=48
OFFSET(prb_data_ring.size_bits)=0
OFFSET(prb_data_ring.data)=4
OFFSET(atomic_long_t.counter)=0
`

// ring32 lays out a ring of 8 descriptors and a 256-byte data ring:
//
//	0x80000000 prb → 0x80000010 (struct printk_ringbuffer)
//	0x80000100 descs, 0x80000200 infos, 0x80000800 data
type ring32 struct {
	mem        *flat
	dataLpos   uint64
	head, tail uint64
	countBits  uint32
	sizeBits   uint32
}

func newRing32() *ring32 {
	m := &flat{base: 0x80000000, b: make([]byte, 0x1000)}
	r := &ring32{mem: m, countBits: 3, sizeBits: 8}
	le := binary.LittleEndian
	le.PutUint32(m.b[0:], 0x80000010)
	rb := m.b[0x10:]
	le.PutUint32(rb[0:], r.countBits)
	le.PutUint32(rb[4:], 0x80000100)
	le.PutUint32(rb[8:], 0x80000200)
	le.PutUint32(rb[24:], r.sizeBits)
	le.PutUint32(rb[28:], 0x80000800)
	return r
}

// add writes record id with state st; the block starts at lpos unless it
// would not fit before the ring's end, in which case it wraps, as
// data_alloc() does.
func (r *ring32) add(id uint32, st uint32, seq uint64, level int, text string) {
	le := binary.LittleEndian
	m := r.mem.b
	idx := id & (1<<r.countBits - 1)
	size := uint64(1) << r.sizeBits
	n := (4 + uint64(len(text)) + 3) &^ 3
	begin := r.dataLpos
	if begin&(size-1)+n > size { // wrap: the block goes to the start
		next := (begin | (size - 1)) + 1 + n
		copyBlock(m[0x800:], id, text)
		r.dataLpos = next
	} else {
		copyBlock(m[0x800+begin&(size-1):], id, text)
		r.dataLpos = begin + n
	}
	d := m[0x100+idx*12:]
	le.PutUint32(d[0:], st<<30|id)
	le.PutUint32(d[4:], uint32(begin))
	le.PutUint32(d[8:], uint32(r.dataLpos))
	in := m[0x200+idx*88:]
	le.PutUint64(in[0:], seq)
	le.PutUint64(in[8:], seq*1_500_000)
	le.PutUint16(in[16:], uint16(len(text)))
	in[19] = byte(level<<5) | FlagNewline
	copy(in[24:], "platform")
	r.setHeadTail(r.tail, uint64(id))
}

func copyBlock(dst []byte, id uint32, text string) {
	binary.LittleEndian.PutUint32(dst, id)
	copy(dst[4:], text)
}

func (r *ring32) setHeadTail(tail, head uint64) {
	r.head, r.tail = head, tail
	binary.LittleEndian.PutUint32(r.mem.b[0x10+12:], uint32(head))
	binary.LittleEndian.PutUint32(r.mem.b[0x10+16:], uint32(tail))
}

func read(t *testing.T, r *ring32) *Log {
	t.Helper()
	info, err := vmcoreinfo.Parse([]byte(info32))
	if err != nil {
		t.Fatal(err)
	}
	l, err := Read(r.mem, binary.LittleEndian, 4, info)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func texts(l *Log) string {
	var s []string
	for _, r := range l.Records {
		s = append(s, r.Text)
	}
	return strings.Join(s, "|")
}

func TestRing(t *testing.T) {
	r := newRing32()
	r.add(0, descFinalized, 0, 6, "Booting Linux")
	r.add(1, descCommitted, 1, 4, "second")
	r.add(2, descReserved, 2, 6, "being written") // skipped
	l := read(t, r)
	if got := texts(l); got != "Booting Linux|second" {
		t.Errorf("records %q", got)
	}
	if rec := l.Records[1]; rec.Level != 4 || rec.Seq != 1 || rec.TimeNS != 1_500_000 || rec.Flags != FlagNewline || rec.Subsystem != "platform" {
		t.Errorf("record %+v", rec)
	}
	var out bytes.Buffer
	l.Write(&out, true)
	if want := "<6>[    0.000000] Booting Linux\n<4>[    0.001500] second\n"; out.String() != want {
		t.Errorf("Write:\n%q\nwant\n%q", out.String(), want)
	}
}

// TestWrappedRing: ids past the descriptor count (the ring has wrapped,
// tail_id 0x13 > count 8) and a data block that wrapped to the ring's
// start.
func TestWrappedRing(t *testing.T) {
	r := newRing32()
	r.dataLpos = 0x1e0 // near the end of the first wrap's 256 bytes... lpos of an older wrap
	long := strings.Repeat("x", 40)
	for id := uint32(0x10); id <= 0x17; id++ {
		r.add(id, descFinalized, uint64(id), 6, fmt.Sprintf("rec %#x %s", id, long[:id-0x10]))
	}
	r.setHeadTail(0x13, 0x17) // records 0x10–0x12 were overwritten in the data ring
	l := read(t, r)
	if len(l.Records) != 5 || l.Records[0].Seq != 0x13 || l.Records[4].Seq != 0x17 {
		t.Fatalf("records %q warnings %v", texts(l), l.Warnings)
	}
	for _, rec := range l.Records {
		if want := fmt.Sprintf("rec %#x %s", rec.Seq, long[:rec.Seq-0x10]); rec.Text != want {
			t.Errorf("seq %#x: %q, want %q", rec.Seq, rec.Text, want)
		}
	}
}

func TestCorruptBlockIsAWarning(t *testing.T) {
	r := newRing32()
	r.add(0, descFinalized, 0, 6, "good")
	r.add(1, descFinalized, 1, 6, "bad")
	binary.LittleEndian.PutUint32(r.mem.b[0x800+8:], 99) // block of id 1 claims id 99
	l := read(t, r)
	if texts(l) != "good" || len(l.Warnings) != 1 || !strings.Contains(l.Warnings[0], "holds id 0x63") {
		t.Errorf("records %q warnings %v", texts(l), l.Warnings)
	}
}

func TestMissingKeysNamed(t *testing.T) {
	info, _ := vmcoreinfo.Parse([]byte(strings.Replace(info32, "SIZE(prb_desc)=12\n", "", 1)))
	_, err := Read(newRing32().mem, binary.LittleEndian, 4, info)
	if err == nil || !strings.Contains(err.Error(), "SIZE(prb_desc)") {
		t.Errorf("err = %v", err)
	}
	info, _ = vmcoreinfo.Parse([]byte("OSRELEASE=x\n"))
	if _, err := Read(newRing32().mem, binary.LittleEndian, 4, info); err != ErrNoLog {
		t.Errorf("err = %v", err)
	}
}

func FuzzRing(f *testing.F) {
	r := newRing32()
	r.add(0, descFinalized, 0, 6, "hello")
	r.add(1, descFinalized, 1, 6, "world")
	f.Add(r.mem.b)
	info, _ := vmcoreinfo.Parse([]byte(info32))
	f.Fuzz(func(t *testing.T, b []byte) {
		m := &flat{base: 0x80000000, b: b}
		l, err := Read(m, binary.LittleEndian, 4, info)
		if err != nil {
			return
		}
		if len(l.Records) > 1<<24 {
			t.Fatal("more records than descriptors")
		}
		checkGaps(t, l)
	})
}

// TestReferenceLogEndsLikeConsole: the log read from the reference dump
// ends with the console's last kernel line before "Loading crashdump
// kernel" (that line is printed by the panicking CPU after the dump's
// notes were saved, but the record is in the ring; take the one before).
func TestReferenceLogEndsLikeConsole(t *testing.T) {
	td := testdump.Require(t)
	d, err := dump.Open(td.Vmcore)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	console, err := os.ReadFile(td.Console)
	if err != nil {
		t.Fatal(err)
	}
	l, err := ReadDump(d)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	l.Write(&out, false)
	var want string
	sc := bufio.NewScanner(bytes.NewReader(console))
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.Contains(line, "Loading crashdump kernel") {
			break
		}
		if strings.HasPrefix(line, "[") {
			want = line
		}
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) < 100 || len(l.Warnings) > 0 {
		t.Fatalf("%d lines, warnings %v", len(lines), l.Warnings)
	}
	found := false
	for _, line := range lines[len(lines)-3:] {
		found = found || line == want
	}
	if !found {
		t.Errorf("log ends\n%s\nwant the console's last line before the dump:\n%s", strings.Join(lines[len(lines)-3:], "\n"), want)
	}
}

func BenchmarkReferenceRing(b *testing.B) {
	d, err := dump.Open(testdump.Require(b).Vmcore)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	m, err := arch.NewMemory(d)
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		if _, err := Read(m, d.ByteOrder, 4, m.Info); err != nil {
			b.Fatal(err)
		}
	}
}

// TestDamagedDescriptorsCounted: descriptors too damaged to name their
// record (state_var holds another id) dropped records with no warning;
// the gap in sequence numbers counts every one of them.
func TestDamagedDescriptorsCounted(t *testing.T) {
	r := newRing32()
	for id := uint32(0); id < 8; id++ {
		r.add(id, descFinalized, uint64(id), 6, fmt.Sprintf("rec %d", id))
	}
	for _, id := range []uint32{2, 3, 4, 5} {
		binary.LittleEndian.PutUint32(r.mem.b[0x100+id*12:], descFinalized<<30|0x3ffff) // id scrambled
	}
	binary.LittleEndian.PutUint32(r.mem.b[0x800+6*12:], 99) // the block of id 6 (after six 12-byte blocks) claims id 99
	l := read(t, r)
	if got := texts(l); got != "rec 0|rec 1|rec 7" {
		t.Fatalf("records %q", got)
	}
	if l.Missing() != 5 || len(l.Gaps) != 1 || l.Gaps[0] != (Gap{After: 1, Before: 7}) {
		t.Errorf("missing %d, gaps %+v; want 5 missing between seq 1 and 7", l.Missing(), l.Gaps)
	}
	want := "5 records missing between seq 1 and 7"
	if !slices.Contains(l.Warnings, want) {
		t.Errorf("warnings %q, want %q", l.Warnings, want)
	}
	if sum := l.Summary(); !strings.HasPrefix(sum, "5 records missing (5 between seq 1 and 7); 1 record problem(s), first: record id 0x6") {
		t.Errorf("summary %q", sum)
	}
}

// checkGaps: the records read plus the records missing span exactly the
// sequence numbers from the first record to the last.
func checkGaps(t *testing.T, l *Log) {
	t.Helper()
	if len(l.Records) == 0 {
		return
	}
	distinct := uint64(1)
	for i := 1; i < len(l.Records); i++ {
		if l.Records[i].Seq < l.Records[i-1].Seq {
			t.Fatalf("records not sorted by seq at %d", i)
		}
		if l.Records[i].Seq != l.Records[i-1].Seq {
			distinct++
		}
	}
	span := l.Records[len(l.Records)-1].Seq - l.Records[0].Seq + 1
	if distinct+l.Missing() != span {
		t.Fatalf("%d distinct seqs + %d missing != span %d (gaps %+v)", distinct, l.Missing(), span, l.Gaps)
	}
}
