package protocol

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// ErrBadSpec means a dump target list names something the capture tool
// cannot write to.
var ErrBadSpec = errors.New("bad dump target")

// Spec is one dump target as a board file or kernel command line names it.
type Spec struct {
	Kind string // "9p", "disk", "dir" or "http"
	Arg  string // 9p mount tag, device path, directory or URL
}

// String is the spec as ParseSpecs reads it, token included.
func (s Spec) String() string {
	if s.Kind == "http" {
		return s.Arg
	}
	return s.Kind + ":" + s.Arg
}

// Label is the spec as the console may show it: an HTTP target's upload
// token is left out, as console logs are kept and shared.
func (s Spec) Label() string {
	if s.Kind != "http" {
		return s.String()
	}
	u, err := url.Parse(s.Arg)
	if err != nil {
		return "http"
	}
	u.User = nil
	return u.String()
}

// tagChars are the characters of a 9p mount tag: the tag also names the
// mount point /mnt/TAG, so it must be a plain name.
var tagChars = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,30}$`)

// tokenChars are what an upload token may hold: URL-unreserved
// characters, so it survives a URL, the comma-separated target list and
// the kernel command line unquoted.
var tokenChars = regexp.MustCompile(`^[A-Za-z0-9._~-]+$`)

// ValidToken reports whether tok can be carried in kdumpkit.targets=.
func ValidToken(tok string) bool { return tokenChars.MatchString(tok) }

// ParseSpecs reads a comma-separated target list: "9p" or "9p:TAG" (a
// QEMU virtio-9p share, tag "dump" by default), "disk" or "disk:/dev/vda",
// "dir:/PATH", "http://[TOKEN@]HOST:PORT/" (TOKEN is what `kdumpkit
// receive` printed).
func ParseSpecs(list string) ([]Spec, error) {
	var out []Spec
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		s, err := parseSpec(f)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no dump targets in %q", ErrBadSpec, list)
	}
	return out, nil
}

func parseSpec(f string) (Spec, error) {
	kind, arg, _ := strings.Cut(f, ":")
	switch {
	case strings.HasPrefix(f, "http://") || strings.HasPrefix(f, "https://"):
		if err := checkUploadURL(f); err != nil {
			return Spec{}, fmt.Errorf("%w %q: %v", ErrBadSpec, f, err)
		}
		return Spec{"http", f}, nil
	case kind == "9p" && (arg == "" || tagChars.MatchString(arg)):
		return Spec{"9p", orDefault(arg, "dump")}, nil
	case kind == "disk" && (arg == "" || isAbsPath(arg)):
		return Spec{"disk", orDefault(arg, "/dev/vda")}, nil
	case kind == "dir" && isAbsPath(arg):
		return Spec{"dir", arg}, nil
	}
	return Spec{}, fmt.Errorf("%w %q: want 9p[:TAG], disk[:/DEVICE], dir:/PATH or http://[TOKEN@]HOST:PORT/", ErrBadSpec, f)
}

func isAbsPath(p string) bool { return strings.HasPrefix(p, "/") && strings.TrimSpace(p) == p }

// checkUploadURL accepts what HTTPTarget can use: a host, a base path, and
// at most a token as user (or password) of the userinfo.
func checkUploadURL(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return errors.Unwrap(err)
	case u.Host == "" || u.Hostname() == "":
		return errors.New("no host")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.Opaque != "":
		return errors.New("a query or fragment has no meaning here")
	case u.User != nil && !ValidToken(UploadToken(u)):
		return errors.New("the token (before @) may hold only letters, digits and . _ ~ -")
	}
	return nil
}

// UploadToken is the token in a target URL: http://TOKEN@HOST/ or
// http://USER:TOKEN@HOST/.
func UploadToken(u *url.URL) string {
	if u.User == nil {
		return ""
	}
	if p, ok := u.User.Password(); ok {
		return p
	}
	return u.User.Username()
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
