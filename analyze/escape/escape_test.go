package escape

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestText(t *testing.T) {
	for in, want := range map[string]string{
		"sh":                       "sh",
		"\x1b[2Jevil":              `\x1b[2Jevil`,
		"a\nb\rc\td":               `a\x0ab\x0dc` + "\td",
		"del\x7f":                  `del\x7f`,
		"c1 \u009b31m":             `c1 \xc2\x9b31m`,
		"bad \xff utf8":            `bad \xff utf8`,
		"rlo \u202e txt":           `rlo \xe2\x80\xae txt`,
		"ünïcode stays":            "ünïcode stays",
		"kworker/0:1H-kblockd\x00": `kworker/0:1H-kblockd\x00`,
	} {
		if got := Text(in); got != want {
			t.Errorf("Text(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWriteJSON(t *testing.T) {
	v := map[string]string{"comm": "\x1b]0;pwned\x07 \x7f \u009b \u202e"}
	var b bytes.Buffer
	if err := WriteJSON(&b, v); err != nil {
		t.Fatal(err)
	}
	assertNoRawControl(t, b.String())
	var back map[string]string
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, b.String())
	}
	if back["comm"] != v["comm"] {
		t.Errorf("round trip: %q, want %q", back["comm"], v["comm"])
	}
}

func assertNoRawControl(t *testing.T, s string) {
	t.Helper()
	for _, r := range s {
		if r != '\n' && r != '\t' && !unicode.IsPrint(r) {
			t.Fatalf("raw %U in output %q", r, s)
		}
	}
}

// FuzzText: the escaped text holds nothing a terminal acts on, and
// undoing the \xHH escapes gives the input back (nothing is lost).
func FuzzText(f *testing.F) {
	for _, s := range []string{"sh", "\x1b[31mred", "a\\x41", "\xff\xfe", "\u009b\u202e", "tab\there"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Text(s)
		if !utf8.ValidString(got) {
			t.Fatalf("Text(%q) = %q is not UTF-8", s, got)
		}
		for _, r := range got {
			if r != '\t' && !unicode.IsPrint(r) {
				t.Fatalf("Text(%q) = %q keeps %U", s, got, r)
			}
		}
		if !strings.Contains(s, `\x`) && unescape(got) != s {
			t.Fatalf("Text(%q) = %q does not undo to the input", s, got)
		}
		var b bytes.Buffer
		if err := WriteJSON(&b, s); err != nil {
			t.Fatal(err)
		}
		assertNoRawControl(t, b.String())
		var back string
		if err := json.Unmarshal(b.Bytes(), &back); err != nil {
			t.Fatalf("WriteJSON(%q) is not JSON: %v", s, err)
		}
		if want := strings.ToValidUTF8(s, "\uFFFD"); utf8.ValidString(s) && back != want {
			t.Fatalf("WriteJSON(%q) decodes to %q", s, back)
		}
	})
}

// unescape undoes Text for inputs that held no literal `\x`.
func unescape(s string) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && s[i+1] == 'x' {
			var c byte
			for _, h := range []byte(s[i+2 : i+4]) {
				c = c<<4 | hexVal(h)
			}
			b = append(b, c)
			i += 3
			continue
		}
		b = append(b, s[i])
	}
	return string(b)
}

func hexVal(h byte) byte {
	if h >= 'a' {
		return h - 'a' + 10
	}
	return h - '0'
}
