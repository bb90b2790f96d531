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
// Names map to lower-case hex; when a name is listed more than once the
// last line wins. A listed path (Bootlin lists the path it built from) is
// also found by its base name, unless a line lists that base name itself.
func ParseChecksums(data []byte) map[string]string {
	exact, byBase := map[string]string{}, map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		sum, name, ok := checksumLine(sc.Text())
		if !ok {
			continue
		}
		exact[name] = sum
		if i := strings.LastIndexByte(name, '/'); i >= 0 && i < len(name)-1 {
			byBase[name[i+1:]] = sum
		}
	}
	for base, sum := range byBase {
		if _, listed := exact[base]; !listed {
			exact[base] = sum
		}
	}
	return exact
}

// checksumLine splits one sha256sum line; ok is false for anything else.
func checksumLine(line string) (sum, name string, ok bool) {
	fields := strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), "- "))
	if len(fields) != 2 || len(fields[0]) != 64 {
		return "", "", false
	}
	if _, err := hex.DecodeString(fields[0]); err != nil {
		return "", "", false
	}
	name = strings.TrimPrefix(fields[1], "*")
	return strings.ToLower(fields[0]), name, name != ""
}

// lookupChecksum finds file's hash in a checksum file's text.
func lookupChecksum(data []byte, file, from string) (string, error) {
	sum, ok := ParseChecksums(data)[file]
	if !ok {
		return "", fmt.Errorf("%s: %w %s", from, ErrNoChecksum, file)
	}
	return sum, nil
}
