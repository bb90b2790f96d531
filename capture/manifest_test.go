package capture

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestReadManifestRefusesPaths: a manifest naming a host file, with its
// true size and hash, was accepted as a dump and verified the host file.
func TestReadManifestRefusesPaths(t *testing.T) {
	root := t.TempDir()
	secret := []byte("root:$6$secret:19000:0:99999:7:::\n")
	os.WriteFile(filepath.Join(root, "shadow"), secret, 0o600)
	dir := filepath.Join(root, "dumps", "one")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, VmcoreName), []byte("core"), 0o644)
	m := Manifest{Files: []FileInfo{
		{VmcoreName, 4, shaOf([]byte("core"))},
		{"../../shadow", int64(len(secret)), shaOf(secret)},
	}}
	js, _ := json.Marshal(m)
	os.WriteFile(filepath.Join(dir, ManifestName), js, 0o644)
	_, err := ReadManifest(dir)
	if !errors.Is(err, ErrBadManifest) || !strings.Contains(err.Error(), `"../../shadow"`) {
		t.Errorf("err = %v, want ErrBadManifest naming the entry", err)
	}
}

func TestParseManifestShape(t *testing.T) {
	good := `{"files":[{"name":"vmcore","size":1,"sha256":"` + strings.Repeat("a", 64) + `"}]}`
	if _, err := ParseManifest([]byte(good)); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{
		`{}`, `[]`, `{"files":[{"name":"dmesg.txt","size":1,"sha256":"` + strings.Repeat("a", 64) + `"}]}`,
		strings.Replace(good, `"size":1`, `"size":-1`, 1),
		strings.Replace(good, strings.Repeat("a", 64), strings.Repeat("A", 64), 1),
		strings.Replace(good, `"vmcore"`, `"manifest.json"`, 1),
		strings.Replace(good, `]}`, `,{"name":"vmcore","size":1,"sha256":"`+strings.Repeat("a", 64)+`"}]}`, 1),
	} {
		if _, err := ParseManifest([]byte(bad)); !errors.Is(err, ErrBadManifest) {
			t.Errorf("%s: err = %v", bad, err)
		}
	}
}

func FuzzParseManifest(f *testing.F) {
	m := Manifest{Release: "6.1.0", Time: time.Unix(0, 0).UTC(), Target: "9p:dump", Files: []FileInfo{
		{DmesgName, 10, shaOf([]byte("x"))}, {VmcoreName, 1 << 30, shaOf([]byte("y"))}}}
	js, _ := json.Marshal(m)
	f.Add(js)
	f.Add([]byte(`{"files":[{"name":"../../etc/shadow","size":1,"sha256":""}]}`))
	f.Add([]byte(`{"files":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseManifest(data)
		if err != nil {
			if !errors.Is(err, ErrBadManifest) {
				t.Fatalf("error %v is not ErrBadManifest", err)
			}
			return
		}
		if _, ok := m.File(VmcoreName); !ok {
			t.Fatal("accepted without a vmcore")
		}
		for _, fi := range m.Files {
			if !IsDumpFile(fi.Name) || fi.Name == ManifestName || fi.Size < 0 || len(fi.SHA256) != 64 {
				t.Fatalf("accepted entry %+v", fi)
			}
		}
		again, _ := json.Marshal(m)
		m2, err := ParseManifest(again)
		if err != nil || !reflect.DeepEqual(m.Files, m2.Files) || m.Release != m2.Release || m.Target != m2.Target || !m.Time.Equal(m2.Time) {
			t.Fatalf("round trip: %+v → %s → %+v, %v", m, again, m2, err)
		}
	})
}

// TestRecordKernelSource: the host's note of the kernel source joins the
// manifest without changing what the board listed, and the directory
// still verifies.
func TestRecordKernelSource(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, VmcoreName), []byte("core"), 0o644)
	m := Manifest{Release: "6.1.172", Target: "9p:dump", Time: time.Unix(1e9, 0).UTC(), Files: []FileInfo{{VmcoreName, 4, shaOf([]byte("core"))}}}
	js, _ := json.Marshal(m)
	os.WriteFile(filepath.Join(dir, ManifestName), js, 0o644)
	const src = "tree /src/linux (git v6.1.172-3-g0123456789ab, dirty: 1 changed and 0 untracked file(s))"
	if err := RecordKernelSource(dir, src); err != nil {
		t.Fatal(err)
	}
	got, err := ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := m
	want.KernelSource = src
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("manifest %+v, want %+v", *got, want)
	}
	if err := RecordKernelSource(t.TempDir(), src); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("no manifest: %v", err)
	}
}
