package capture

import (
	"fmt"
	"strings"
)

// Spec is one dump target as a board file or kernel command line names it.
type Spec struct {
	Kind string // "9p", "disk", "dir" or "http"
	Arg  string // 9p mount tag, device path, directory or URL
}

func (s Spec) String() string {
	if s.Kind == "http" {
		return s.Arg
	}
	return s.Kind + ":" + s.Arg
}

// ParseSpecs reads a comma-separated target list: "9p" or "9p:TAG" (a
// QEMU virtio-9p share, tag "dump" by default), "disk" or "disk:/dev/vda",
// "dir:/PATH", "http://HOST:PORT/".
func ParseSpecs(list string) ([]Spec, error) {
	var out []Spec
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		kind, arg, _ := strings.Cut(f, ":")
		switch {
		case strings.HasPrefix(f, "http://") || strings.HasPrefix(f, "https://"):
			out = append(out, Spec{"http", f})
		case kind == "9p":
			out = append(out, Spec{"9p", orDefault(arg, "dump")})
		case kind == "disk":
			out = append(out, Spec{"disk", orDefault(arg, "/dev/vda")})
		case kind == "dir" && strings.HasPrefix(arg, "/"):
			out = append(out, Spec{"dir", arg})
		default:
			return nil, fmt.Errorf("dump target %q: want 9p[:TAG], disk[:DEVICE], dir:/PATH or http://HOST:PORT/", f)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no dump targets in %q", list)
	}
	return out, nil
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
