package downloads

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// ErrNoChecksum means a checksum file has no line for the file.
var ErrNoChecksum = errors.New("no checksum for file")

// ParseChecksums reads "HEX  NAME" / "HEX *NAME" lines (sha256sum output),
// skipping anything else — PGP armor and signatures around kernel.org's
// clearsigned sha256sums.asc, and the dash-escaping clearsigning adds.
// Names map to lower-case hex.
func ParseChecksums(data []byte) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimPrefix(strings.TrimSpace(sc.Text()), "- ")
		sum, name, ok := strings.Cut(line, " ")
		if !ok || len(sum) != 64 {
			continue
		}
		if _, err := hex.DecodeString(sum); err != nil {
			continue
		}
		name = strings.TrimPrefix(strings.TrimSpace(name), "*")
		if name == "" || strings.ContainsAny(name, " \t") {
			continue
		}
		out[name] = strings.ToLower(sum)
		// Bootlin lists the path it built from; match on the base name too.
		if i := strings.LastIndexByte(name, '/'); i >= 0 {
			out[name[i+1:]] = strings.ToLower(sum)
		}
	}
	return out
}

// lookupChecksum finds file's hash in a checksum file's text.
func lookupChecksum(data []byte, file, from string) (string, error) {
	sum, ok := ParseChecksums(data)[file]
	if !ok {
		return "", fmt.Errorf("%s: %w %s", from, ErrNoChecksum, file)
	}
	return sum, nil
}
