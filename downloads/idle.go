package downloads

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// ErrIdle means a source sent (almost) nothing for the idle timeout.
var ErrIdle = errors.New("stalled")

// Defaults for Fetcher.IdleTimeout and Fetcher.IdleBytes: a source that
// sends less than 1 KiB in 30 s is stalled (curl's --speed-time and
// --speed-limit, as a window). 30 s allows a slow mirror's first byte; the
// byte count catches a server that drips a byte a second, which no
// "nothing received" timer would.
const (
	DefaultIdleTimeout = 30 * time.Second
	DefaultIdleBytes   = 1 << 10
)

// idleWatch is a context cancelled, with an ErrIdle cause, at the end of
// the first window of idle that brought fewer than min bytes. It stops
// with stop, or when parent ends.
type idleWatch struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	idle   time.Duration
	got    atomic.Int64 // bytes in the current window
	done   chan struct{}
	once   sync.Once
}

func newIdleWatch(parent context.Context, idle time.Duration, min int64, what string) *idleWatch {
	w := &idleWatch{idle: idle, done: make(chan struct{})}
	w.ctx, w.cancel = context.WithCancelCause(parent)
	go w.run(min, what)
	return w
}

func (w *idleWatch) run(min int64, what string) {
	t := time.NewTicker(w.idle)
	defer t.Stop()
	for {
		select {
		case <-w.done:
			return
		case <-w.ctx.Done():
			return
		case <-t.C:
			if n := w.got.Swap(0); n < min {
				w.cancel(fmt.Errorf("%s: %w: %d bytes in %s, want at least %d", what, ErrIdle, n, w.idle, min))
				return
			}
		}
	}
}

// progress counts n more bytes received.
func (w *idleWatch) progress(n int64) { w.got.Add(n) }

func (w *idleWatch) stop() {
	w.once.Do(func() {
		close(w.done)
		w.cancel(nil)
	})
}

// err is the idle error when the watch fired, else err unchanged.
func (w *idleWatch) err(err error) error {
	if cause := context.Cause(w.ctx); errors.Is(cause, ErrIdle) {
		return cause
	}
	return err
}

// idleReader counts the bytes each read brings for its watch.
type idleReader struct {
	r io.Reader
	w *idleWatch
}

func (r idleReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.w.progress(int64(n))
	return n, err
}
