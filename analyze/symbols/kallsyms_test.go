package symbols

import (
	"encoding/binary"
	"testing"
)

// kallsymsFixture encodes symbols the way scripts/kallsyms.c does, with a
// token table of single characters plus one multi-character token.
func kallsymsFixture(names []string, offs []uint32) (names_, tokens, tokIdx, offsets []byte) {
	le := binary.LittleEndian
	tokIdx = make([]byte, 512)
	// token 0x80 = "sys", every other byte value = itself.
	for i := 0; i < 256; i++ {
		le.PutUint16(tokIdx[2*i:], uint16(len(tokens)))
		if i == 0x80 {
			tokens = append(tokens, "sys"...)
		} else {
			tokens = append(tokens, byte(i))
		}
		tokens = append(tokens, 0)
	}
	for _, n := range names {
		var enc []byte
		for i := 0; i < len(n); i++ {
			if i+3 <= len(n) && n[i:i+3] == "sys" {
				enc = append(enc, 0x80)
				i += 2
				continue
			}
			enc = append(enc, n[i])
		}
		if len(enc) >= 0x80 {
			names_ = append(names_, byte(len(enc)&0x7f|0x80), byte(len(enc)>>7))
		} else {
			names_ = append(names_, byte(len(enc)))
		}
		names_ = append(names_, enc...)
	}
	offsets = make([]byte, 4*len(offs))
	for i, o := range offs {
		le.PutUint32(offsets[4*i:], o)
	}
	return names_, tokens, tokIdx, offsets
}

func TestDecodeKallsyms(t *testing.T) {
	long := "T" + string(make([]byte, 0)) + "a_very_long_symbol_name_that_needs_the_two_byte_length_form_since_6_1_" + "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	names, tokens, tokIdx, offsets := kallsymsFixture([]string{"Tpanic", "t__handle_sysrq", "Djiffies", long}, []uint32{0x100, 0x200, 0x300, 0x400})
	syms, err := decodeKallsyms(names, tokens, tokIdx, offsets, 4, 0x80000000, binary.LittleEndian)
	if err != nil {
		t.Fatal(err)
	}
	tab := New(syms)
	for name, want := range map[string]uint64{"panic": 0x80000100, "__handle_sysrq": 0x80000200, "jiffies": 0x80000300, long[1:]: 0x80000400} {
		if a, err := tab.Addr(name); err != nil || a != want {
			t.Errorf("%s = %#x, %v; want %#x", name, a, err, want)
		}
	}
	if _, err := decodeKallsyms(names[:5], tokens, tokIdx, offsets, 4, 0, binary.LittleEndian); err == nil {
		t.Error("truncated names: no error")
	}
}

func FuzzDecodeKallsyms(f *testing.F) {
	names, tokens, tokIdx, offsets := kallsymsFixture([]string{"Tpanic", "tsys_write"}, []uint32{1, 2})
	f.Add(names, tokens)
	f.Fuzz(func(t *testing.T, names, tokens []byte) {
		_, _ = decodeKallsyms(names, tokens, tokIdx, offsets, 2, 0, binary.LittleEndian)
	})
}
