package escape

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Text returns s with every byte a terminal could act on written as \xHH:
// C0 controls (newline included: a comm holding one would forge a line),
// DEL, C1 controls, other non-printable runes (bidi overrides among them)
// and bytes that are not UTF-8. Tabs and printable runes are kept, as
// dmesg(1) keeps them.
func Text(s string) string {
	if isSafe(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if keep(r, n) {
			b.WriteString(s[i : i+n])
		} else {
			for _, c := range []byte(s[i : i+n]) {
				fmt.Fprintf(&b, `\x%02x`, c)
			}
		}
		i += n
	}
	return b.String()
}

func isSafe(s string) bool {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !keep(r, n) {
			return false
		}
		i += n
	}
	return true
}

// keep reports whether a decoded rune of n bytes may be printed as it is.
func keep(r rune, n int) bool {
	if r == utf8.RuneError && n <= 1 {
		return false // not UTF-8
	}
	return r == '\t' || unicode.IsPrint(r)
}

// WriteJSON writes v as indented JSON whose strings carry no raw control
// character: encoding/json already writes C0 controls as \u00XX; this also
// escapes DEL, C1 controls and the other non-printable runes it lets
// through, so a consumer that prints a string field verbatim stays safe.
func WriteJSON(w io.Writer, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(escapeJSON(buf.Bytes()))
	return err
}

// escapeJSON rewrites non-printable runes of encoded JSON as \uXXXX. Only
// ASCII structure and whitespace appear outside strings, so every rune it
// touches is inside a string, where \uXXXX is a valid escape.
func escapeJSON(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r < utf8.RuneSelf && r != 0x7f || r == '\t' || unicode.IsPrint(r) {
			out = append(out, b[i:i+n]...)
		} else {
			for _, u := range utf16Units(r) {
				out = fmt.Appendf(out, `\u%04x`, u)
			}
		}
		i += n
	}
	return out
}

func utf16Units(r rune) []rune {
	if r < 0x10000 {
		return []rune{r}
	}
	r -= 0x10000
	return []rune{0xd800 + r>>10, 0xdc00 + r&0x3ff}
}
