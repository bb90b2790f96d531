package commands

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestLogFormat(t *testing.T) {
	s := &Session{Printk: func() ([]LogRecord, error) {
		return []LogRecord{
			{Seq: 1, TimeNS: 1897436000, Level: 0, Text: "Kernel panic - not syncing: sysrq triggered crash"},
			{Seq: 2, TimeNS: 1899139123, Level: 4, Text: "line one\nline two\n"},
		}, nil
	}}
	var out bytes.Buffer
	if err := s.Run(&out, "log -m"); err != nil {
		t.Fatal(err)
	}
	want := "[    1.897436] <0>Kernel panic - not syncing: sysrq triggered crash\n" +
		"[    1.899139] <4>line one\n[    1.899139] <4>line two\n"
	if out.String() != want {
		t.Errorf("log -m:\n%s\nwant:\n%s", out.String(), want)
	}
	if got := s.panicLine(); got != "Kernel panic - not syncing: sysrq triggered crash" {
		t.Errorf("panic message %q", got)
	}
	s.JSON = true
	out.Reset()
	if err := s.Run(&out, "log"); err != nil {
		t.Fatal(err)
	}
	var recs []LogRecord
	if err := json.Unmarshal(out.Bytes(), &recs); err != nil || len(recs) != 2 || recs[1].Level != 4 {
		t.Errorf("log --json: %v %+v", err, recs)
	}
}

func TestLogPartialAndMissing(t *testing.T) {
	var warn bytes.Buffer
	s := &Session{Warn: &warn, Printk: func() ([]LogRecord, error) {
		return []LogRecord{{Text: "first"}}, errors.New("descriptor 7: bad state")
	}}
	var out bytes.Buffer
	if err := s.Run(&out, "log"); err != nil || !strings.Contains(out.String(), "first") || !strings.Contains(warn.String(), "partial") {
		t.Errorf("partial ring: err %v out %q warn %q", err, out.String(), warn.String())
	}
	if err := (&Session{}).Run(&out, "log"); err == nil {
		t.Error("no printk reader: no error")
	}
	if err := s.Run(&out, "log -x"); !errors.Is(err, ErrUsage) {
		t.Errorf("log -x: %v", err)
	}
}

func TestHelpPages(t *testing.T) {
	s := &Session{}
	for name := range commandTable() {
		var out bytes.Buffer
		if err := s.Run(&out, "help "+name); err != nil || !strings.Contains(out.String(), "NAME") {
			t.Errorf("help %s: %v %q", name, err, out.String())
		}
	}
	var out bytes.Buffer
	if err := s.Run(&out, "help dmesg"); err != nil || !strings.Contains(out.String(), "log -") {
		t.Errorf("help of an alias: %v %q", err, out.String())
	}
	if err := s.Run(&out, "help nosuch"); err == nil {
		t.Error("help nosuch: no error")
	}
}

func TestSetScroll(t *testing.T) {
	var out bytes.Buffer
	if err := (&Session{}).Run(&out, "set scroll off"); err != nil || !strings.Contains(out.String(), "scroll: off") {
		t.Errorf("set scroll off: %v %q", err, out.String())
	}
}
