package capture

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
