package protocol

import (
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// TestParseSpecsToken: the receiver's token rides in the URL's userinfo,
// the label shown on the console leaves it out, and names that could leave
// /mnt or carry shell-hostile characters are refused.
func TestParseSpecsToken(t *testing.T) {
	specs, err := ParseSpecs("http://0123456789abcdef0123456789abcdef@10.0.2.2:8123/,9p:dump0")
	if err != nil {
		t.Fatal(err)
	}
	if specs[0].Kind != "http" || specs[0].String() != "http://0123456789abcdef0123456789abcdef@10.0.2.2:8123/" {
		t.Errorf("spec %+v", specs[0])
	}
	if l := specs[0].Label(); l != "http://10.0.2.2:8123/" {
		t.Errorf("label %q shows the token or mangles the URL", l)
	}
	for _, bad := range []string{
		"9p:../../etc", "9p:a/b", "disk:relative", "dir:x",
		"http://", "http://tok%2Cen@host/", "http://to ken@host/", "http://user:@host/",
		"http://host/?q=1", "http://host/#frag",
	} {
		_, err := ParseSpecs(bad)
		if !errors.Is(err, ErrBadSpec) {
			t.Errorf("%q: err = %v, want ErrBadSpec", bad, err)
		}
	}
}

func FuzzParseSpecs(f *testing.F) {
	for _, s := range []string{"9p", "9p:dump,disk", "disk:/dev/vdb", "dir:/mnt/x", "http://10.0.2.2:8123/",
		"http://tok_en@h:1/", "https://u:tok@h/base/", "9p:../x", "floppy", ",,", "http://[::1]:80/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, list string) {
		specs, err := ParseSpecs(list)
		if err != nil {
			if !errors.Is(err, ErrBadSpec) {
				t.Fatalf("%q: error %v is not ErrBadSpec", list, err)
			}
			return
		}
		var back []string
		for _, s := range specs {
			if s.Kind == "9p" && strings.ContainsAny(s.Arg, "/\x00") {
				t.Fatalf("%q: 9p tag %q leaves /mnt", list, s.Arg)
			}
			if u, err := url.Parse(s.Label()); s.Kind == "http" && (err != nil || u.User != nil) {
				t.Fatalf("%q: label %q shows a token (%v)", list, s.Label(), err)
			}
			back = append(back, s.String())
		}
		again, err := ParseSpecs(strings.Join(back, ","))
		if err != nil || !reflect.DeepEqual(again, specs) {
			t.Fatalf("%q → %q → %+v, %v; want %+v", list, back, again, err, specs)
		}
	})
}

func TestParseSpecs(t *testing.T) {
	got, err := ParseSpecs("9p, disk:/dev/vdb,dir:/mnt/x,http://10.0.2.2:8123/")
	if err != nil {
		t.Fatal(err)
	}
	want := "9p:dump disk:/dev/vdb dir:/mnt/x http://10.0.2.2:8123/"
	var s []string
	for _, g := range got {
		s = append(s, g.String())
	}
	if strings.Join(s, " ") != want {
		t.Errorf("got %v", s)
	}
	for _, bad := range []string{"", "floppy", "dir:relative"} {
		if _, err := ParseSpecs(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestSavedRoundTrip(t *testing.T) {
	s := Saved{Target: "9p:dump", Size: 469770240, SHA256: strings.Repeat("ab", 32)}
	got, ok := ParseSaved("[    9.1] " + s.String() + "\r")
	if !ok || got != s {
		t.Errorf("ParseSaved(%q) = %+v, %v", s.String(), got, ok)
	}
	for _, bad := range []string{
		MarkerSaved + " target=x size=99999999999999999999 sha256=" + strings.Repeat("0", 64),
		MarkerSaved + " target=x size=1 sha256=" + strings.Repeat("0", 63),
		MarkerSaved + " target=x size=-1 sha256=" + strings.Repeat("0", 64),
		"VMCORE SAVED target=x size=1 sha256=" + strings.Repeat("0", 64),
	} {
		if got, ok := ParseSaved(bad); ok {
			t.Errorf("ParseSaved(%q) = %+v, want refused", bad, got)
		}
	}
}

func FuzzParseSaved(f *testing.F) {
	f.Add(Saved{Target: "disk:/dev/vda", Size: 1 << 20, SHA256: strings.Repeat("0f", 32)}.String())
	f.Add("KDUMPKIT: VMCORE SAVED target= size=0 sha256=")
	f.Fuzz(func(t *testing.T, line string) {
		s, ok := ParseSaved(line)
		if !ok {
			return
		}
		if s.Size < 0 || len(s.SHA256) != 64 || strings.ContainsAny(s.Target, " \t\n") {
			t.Fatalf("accepted %+v from %q", s, line)
		}
		if back, ok := ParseSaved(s.String()); !ok || back != s {
			t.Fatalf("%+v does not round-trip: %+v %v", s, back, ok)
		}
	})
}
