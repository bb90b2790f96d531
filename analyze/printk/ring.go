package printk

import (
	"fmt"
)

// Descriptor states, the top two bits of prb_desc.state_var (bits 30–31
// of an unsigned long on 32-bit kernels, 62–63 on 64-bit).
const (
	descReserved  = 0
	descCommitted = 1
	descFinalized = 2
	descReusable  = 3
)

// ring reads the lockless ring (Linux ≥ 5.10): walk descriptor ids from
// tail_id to head_id; each committed or finalized descriptor whose id
// matches points at a data block [begin, next) holding the id (an
// unsigned long) then the text; the info array holds seq, time, length,
// level and caller.
func (r *reader) ring() (*Log, error) {
	rb := r.word(r.sym("prb"))
	dr := rb + r.off("printk_ringbuffer", "desc_ring")
	tr := rb + r.off("printk_ringbuffer", "text_data_ring")
	counter := r.off("atomic_long_t", "counter")
	countBits := r.u32(dr + r.off("prb_desc_ring", "count_bits"))
	descs := r.word(dr + r.off("prb_desc_ring", "descs"))
	infos := r.word(dr + r.off("prb_desc_ring", "infos"))
	head := r.word(dr + r.off("prb_desc_ring", "head_id") + counter)
	tail := r.word(dr + r.off("prb_desc_ring", "tail_id") + counter)
	sizeBits := r.u32(tr + r.off("prb_data_ring", "size_bits"))
	data := r.word(tr + r.off("prb_data_ring", "data"))
	descSize, infoSize := r.size("prb_desc"), r.size("printk_info")
	svOff, lposOff := r.off("prb_desc", "state_var"), r.off("prb_desc", "text_blk_lpos")
	beginOff, nextOff := r.off("prb_data_blk_lpos", "begin"), r.off("prb_data_blk_lpos", "next")
	if r.err != nil {
		return nil, fmt.Errorf("printk ring: %w", r.err)
	}
	if countBits > 24 || sizeBits > 28 || sizeBits < uint32(r.ptr) {
		return nil, fmt.Errorf("printk ring at %#x: implausible count_bits %d / size_bits %d", rb, countBits, sizeBits)
	}
	count := uint64(1) << countBits
	descBuf := r.bulk(descs, count*descSize, "printk descriptors")
	infoBuf := r.bulk(infos, count*infoSize, "printk infos")
	dataBuf := r.bulk(data, uint64(1)<<sizeBits, "printk text data")
	if r.err != nil {
		return nil, fmt.Errorf("printk ring: %w", r.err)
	}
	bits := uint(8 * r.ptr)
	wordMask := uint64(1)<<bits - 1
	if bits == 64 {
		wordMask = ^uint64(0)
	}
	idMask := wordMask >> 2
	log := &Log{}
	ir := &infoReader{r: r}
	for id, n := tail&idMask, uint64(0); n <= count; id, n = (id+1)&idMask, n+1 {
		d := descBuf[(id&(count-1))*descSize:]
		sv := r.uword(d[svOff:])
		if sv&idMask == id {
			if st := sv >> (bits - 2); st == descCommitted || st == descFinalized {
				rec, textLen, err := ir.record(infoBuf[(id&(count-1))*infoSize:], infoSize)
				if err == nil {
					begin, next := r.uword(d[lposOff+beginOff:]), r.uword(d[lposOff+nextOff:])
					rec.Text, err = r.text(dataBuf, sizeBits, begin, next, id, textLen)
				}
				if err != nil {
					log.Warnings = append(log.Warnings, fmt.Sprintf("record id %#x: %v", id, err))
				} else {
					log.Records = append(log.Records, rec)
				}
			}
		}
		if id == head&idMask {
			break
		}
	}
	sortBySeq(log.Records)
	return log, nil
}

// text extracts a record's text from its data block. Data-less records
// (begin with bit 0 set: FAILED_LPOS, EMPTY_LINE_LPOS) have none. A block
// whose begin and next lie in different wraps of the ring starts at the
// ring's start: the kernel never splits a block.
func (r *reader) text(ring []byte, sizeBits uint32, begin, next, id uint64, textLen int) (string, error) {
	if begin&1 != 0 || begin == next {
		return "", nil
	}
	size := uint64(1) << sizeBits
	idx := func(lpos uint64) uint64 { return lpos & (size - 1) }
	wraps := func(lpos uint64) uint64 { return lpos >> sizeBits }
	var blk []byte
	switch {
	case wraps(begin) == wraps(next) && idx(next) > idx(begin):
		blk = ring[idx(begin):idx(next)]
	case wraps(begin)+1 == wraps(next) || (wraps(next) == 0 && idx(next) <= idx(begin)):
		blk = ring[:idx(next)]
	default:
		return "", fmt.Errorf("data block %#x-%#x is not a valid extent of a %d-byte ring", begin, next, size)
	}
	if len(blk) < r.ptr {
		return "", fmt.Errorf("data block %#x-%#x shorter than its id", begin, next)
	}
	if got := r.uword(blk); got != id {
		return "", fmt.Errorf("data block at %#x holds id %#x, want %#x", begin, got, id)
	}
	blk = blk[r.ptr:]
	if textLen > len(blk) {
		textLen = len(blk)
	}
	return string(blk[:textLen]), nil
}

// infoReader decodes struct printk_info.
type infoReader struct {
	r                                             *reader
	seq, ts, textLen, caller, dev, subsys, device uint64
	subsysLen, deviceLen                          uint64
	once                                          bool
}

func (ir *infoReader) init() {
	r := ir.r
	ir.seq, ir.ts = r.off("printk_info", "seq"), r.off("printk_info", "ts_nsec")
	ir.textLen, ir.caller = r.off("printk_info", "text_len"), r.off("printk_info", "caller_id")
	ir.dev, _ = r.info.Offset("printk_info", "dev_info")
	ir.subsys, _ = r.info.Offset("dev_printk_info", "subsystem")
	ir.device, _ = r.info.Offset("dev_printk_info", "device")
	ir.subsysLen, _ = r.info.Length("printk_info_subsystem")
	ir.deviceLen, _ = r.info.Length("printk_info_device")
	ir.once = true
}

// record decodes one info. Facility and the flags:5/level:3 bitfield
// byte follow the u16 text_len (struct printk_info, 5.10–6.x); VMCOREINFO
// exports no offsets for them, so their place is taken from text_len's.
// It also returns text_len, the length of the text in the data block.
func (ir *infoReader) record(b []byte, size uint64) (Record, int, error) {
	if !ir.once {
		ir.init()
	}
	r := ir.r
	if r.err != nil {
		return Record{}, 0, r.err
	}
	if ir.textLen+4 > size || ir.ts+8 > size || ir.caller+4 > size {
		return Record{}, 0, fmt.Errorf("printk_info offsets exceed SIZE(printk_info)=%d", size)
	}
	rec := Record{
		Seq:      r.bo.Uint64(b[ir.seq:]),
		TimeNS:   r.bo.Uint64(b[ir.ts:]),
		Facility: int(b[ir.textLen+2]),
		CallerID: r.bo.Uint32(b[ir.caller:]),
	}
	fl := b[ir.textLen+3]
	if r.bo.Uint16([]byte{0, 1}) == 1 { // big-endian: bitfields from the top
		rec.Flags, rec.Level = int(fl>>3), int(fl&7)
	} else {
		rec.Flags, rec.Level = int(fl&0x1f), int(fl>>5)
	}
	if ir.dev != 0 && ir.subsysLen != 0 && ir.dev+ir.device+ir.deviceLen <= size {
		rec.Subsystem = cstring(b[ir.dev+ir.subsys : ir.dev+ir.subsys+ir.subsysLen])
		rec.Device = cstring(b[ir.dev+ir.device : ir.dev+ir.device+ir.deviceLen])
	}
	return rec, int(r.bo.Uint16(b[ir.textLen:])), nil
}
