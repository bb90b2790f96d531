package capture

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
)

// ErrBadManifest means a manifest.json is not one the capture tool writes:
// not JSON, no vmcore, a name outside the dump's fixed set, a duplicate, a
// negative size or a malformed sha256.
var ErrBadManifest = errors.New("bad manifest")

// maxManifestSize bounds what is read of a manifest.json: the capture tool
// writes about 400 bytes, and the file is parsed in memory.
const maxManifestSize = 64 << 10

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

// IsDumpFile reports whether name is one of the files a dump consists of.
// Receivers and readers accept no other name, so a forged manifest or
// upload can never name a path.
func IsDumpFile(name string) bool {
	switch name {
	case VmcoreName, DmesgName, ManifestName:
		return true
	}
	return false
}

// ParseManifest reads a manifest.json and checks its shape; it says
// nothing about whether the files it lists exist.
func ParseManifest(data []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadManifest, err)
	}
	seen := map[string]bool{}
	for i, f := range m.Files {
		switch {
		case !IsDumpFile(f.Name) || f.Name == ManifestName:
			return nil, fmt.Errorf("%w: files[%d]: name %.64q is not %s or %s", ErrBadManifest, i, f.Name, VmcoreName, DmesgName)
		case seen[f.Name]:
			return nil, fmt.Errorf("%w: files[%d]: %s listed twice", ErrBadManifest, i, f.Name)
		case f.Size < 0:
			return nil, fmt.Errorf("%w: files[%d]: %s: size %d", ErrBadManifest, i, f.Name, f.Size)
		case !sha256Hex.MatchString(f.SHA256):
			return nil, fmt.Errorf("%w: files[%d]: %s: sha256 %.80q is not 64 lowercase hex digits", ErrBadManifest, i, f.Name, f.SHA256)
		}
		seen[f.Name] = true
	}
	if !seen[VmcoreName] {
		return nil, fmt.Errorf("%w: lists no %s", ErrBadManifest, VmcoreName)
	}
	return &m, nil
}

func parseManifestFile(p string) (*Manifest, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxManifestSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	if len(data) > maxManifestSize {
		return nil, fmt.Errorf("%s: %w: larger than %d bytes", p, ErrBadManifest, maxManifestSize)
	}
	m, err := ParseManifest(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return m, nil
}

// RecordKernelSource adds the host's kernel source to the manifest.json in
// dir, in place (a temporary file renamed over it); the files it lists and
// their hashes are left as the board wrote them.
func RecordKernelSource(dir, source string) error {
	p := filepath.Join(dir, ManifestName)
	m, err := parseManifestFile(p)
	if err != nil {
		return err
	}
	m.KernelSource = source
	js, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, append(js, '\n'), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, p); err != nil {
		return errors.Join(err, os.Remove(tmp))
	}
	return nil
}
