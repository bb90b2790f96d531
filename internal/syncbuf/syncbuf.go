// Package syncbuf is a log buffer that servers' goroutines write while a
// test reads it: a bytes.Buffer behind a mutex, and a wait for text that
// a goroutine logs after the client already has its answer.
package syncbuf

import (
	"bytes"
	"strings"
	"sync"
	"time"
)

// Buffer is safe for concurrent Write and String.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// WaitFor waits up to timeout for the buffer to hold text.
func (s *Buffer) WaitFor(text string, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		if strings.Contains(s.String(), text) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}
