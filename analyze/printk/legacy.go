package printk

import "fmt"

// legacy reads the log_buf of kernels before 5.10: struct printk_log
// records (u64 ts_nsec; u16 len, text_len, dict_len; u8 facility; u8
// flags:5, level:3; then text) from log_first_idx to log_next_idx, a
// zero len meaning "wrap to the start".
func (r *reader) legacy() (*Log, error) {
	buf := r.word(r.sym("log_buf"))
	bufLen := uint64(r.u32(r.sym("log_buf_len")))
	first := uint64(r.u32(r.sym("log_first_idx")))
	next := uint64(r.u32(r.sym("log_next_idx")))
	hdr := r.size("printk_log")
	tsOff, lenOff, textLenOff := r.off("printk_log", "ts_nsec"), r.off("printk_log", "len"), r.off("printk_log", "text_len")
	if r.err != nil {
		return nil, fmt.Errorf("log_buf: %w", r.err)
	}
	data := r.bulk(buf, bufLen, "log_buf")
	if r.err != nil {
		return nil, fmt.Errorf("log_buf: %w", r.err)
	}
	log := &Log{}
	var seq uint64
	for idx, steps := first, 0; idx != next && steps < len(data); steps++ {
		if idx+hdr > bufLen {
			log.Warnings = append(log.Warnings, fmt.Sprintf("record at log_buf+%#x: header past the buffer end", idx))
			break
		}
		rec := data[idx:]
		n := uint64(r.bo.Uint16(rec[lenOff:]))
		if n == 0 {
			idx = 0
			continue
		}
		tl := uint64(r.bo.Uint16(rec[textLenOff:]))
		if idx+n > bufLen || hdr+tl > n {
			log.Warnings = append(log.Warnings, fmt.Sprintf("record at log_buf+%#x: len %d, text_len %d do not fit", idx, n, tl))
			break
		}
		fl := rec[textLenOff+5]
		log.Records = append(log.Records, Record{
			Seq: seq, TimeNS: r.bo.Uint64(rec[tsOff:]), Facility: int(rec[textLenOff+4]),
			Flags: int(fl & 0x1f), Level: int(fl >> 5), Text: string(rec[hdr : hdr+tl]),
		})
		seq++
		idx += n
	}
	return log, nil
}
