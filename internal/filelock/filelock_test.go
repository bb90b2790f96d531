package filelock

import (
	"path/filepath"
	"testing"
	"time"
)

// TestLockWaits checks a second Lock of the same path waits for the first
// to be released (flock locks are per open file, so this holds within one
// process too).
func TestLockWaits(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sub", "x.lock")
	unlock, err := Lock(p)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan time.Time)
	go func() {
		u2, err := Lock(p)
		if err != nil {
			t.Error(err)
		}
		got <- time.Now()
		u2()
	}()
	time.Sleep(200 * time.Millisecond)
	released := time.Now()
	unlock()
	if at := <-got; at.Before(released) {
		t.Errorf("second Lock returned at %v, before the first was released at %v", at, released)
	}
}
