// Package console is a board's serial console as kdumpkit drives it: a
// serial device (a USB adapter such as /dev/ttyUSB0, or the pty QEMU
// opens for -serial pty, opened the same way) read by one goroutine into
// a log file and a stream, with Expect to wait for text such as U-Boot's
// prompt, Send to type, and Reader to hand what follows to a line watcher.
// A device that vanishes (a cable pulled, QEMU gone) ends the stream with
// an error that names the device.
package console

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"time"

	"go.bug.st/serial"
)

// ErrTimeout means the text expected did not come in time.
var ErrTimeout = errors.New("timed out")

// Console is an open console. Its methods are for one caller at a time,
// except Tail, which may be called from anywhere.
type Console struct {
	Device string
	port   io.ReadWriteCloser
	chunks chan []byte
	errMu  sync.Mutex
	err    error // why reading ended

	pending []byte // read, not yet consumed by Expect or Reader

	tailMu sync.Mutex
	tail   []byte // the last tailBytes read, for diagnosis
}

const tailBytes = 16 << 10

// Open opens a serial device at baud (8N1, no flow control, as U-Boot and
// Linux consoles use) and starts reading it; everything read is copied to
// log.
func Open(device string, baud int, log io.Writer) (*Console, error) {
	p, err := serial.Open(device, &serial.Mode{BaudRate: baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit})
	if err != nil {
		return nil, fmt.Errorf("console %s: %w (is the adapter plugged in, and is the device free — no screen or minicom on it?)", device, err)
	}
	return New(device, p, log), nil
}

// New drives an already open console (tests use a pipe).
func New(device string, port io.ReadWriteCloser, log io.Writer) *Console {
	c := &Console{Device: device, port: port, chunks: make(chan []byte, 256)}
	go c.read(log)
	return c
}

func (c *Console) read(log io.Writer) {
	defer close(c.chunks)
	for {
		buf := make([]byte, 4096)
		n, err := c.port.Read(buf)
		if n > 0 {
			if log != nil {
				log.Write(buf[:n])
			}
			c.keepTail(buf[:n])
			c.chunks <- buf[:n]
		}
		if err != nil || n == 0 {
			if err == nil {
				err = io.EOF // go.bug.st/serial reports a closed port as 0, nil
			}
			c.errMu.Lock()
			c.err = err
			c.errMu.Unlock()
			return
		}
	}
}

func (c *Console) keepTail(b []byte) {
	c.tailMu.Lock()
	c.tail = append(c.tail, b...)
	if len(c.tail) > tailBytes {
		c.tail = append([]byte(nil), c.tail[len(c.tail)-tailBytes:]...)
	}
	c.tailMu.Unlock()
}

// Tail is the last n lines read.
func (c *Console) Tail(n int) []string {
	c.tailMu.Lock()
	text := string(c.tail)
	c.tailMu.Unlock()
	lines := strings.Split(strings.ReplaceAll(text, "\r", ""), "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines[max(0, len(lines)-n):]
}

// Gone is the error that ended reading, naming the device; nil while it
// reads.
func (c *Console) Gone() error {
	c.errMu.Lock()
	defer c.errMu.Unlock()
	if c.err == nil {
		return nil
	}
	return fmt.Errorf("console %s vanished (cable unplugged, board or QEMU gone): %w", c.Device, c.err)
}

// Expect waits up to timeout for re to match the text read since the last
// match and returns that text up to the end of the match; what follows
// stays for the next call.
func (c *Console) Expect(re *regexp.Regexp, timeout time.Duration) (string, error) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		if loc := re.FindIndex(c.pending); loc != nil {
			text := string(c.pending[:loc[1]])
			c.pending = c.pending[loc[1]:]
			return text, nil
		}
		select {
		case b, ok := <-c.chunks:
			if !ok {
				return string(c.pending), c.Gone()
			}
			c.pending = append(c.pending, b...)
		case <-timer.C:
			return string(c.pending), fmt.Errorf("%w after %s waiting for %q on %s", ErrTimeout, timeout, re.String(), c.Device)
		}
	}
}

// Poll is Expect that also calls tick every interval while it waits:
// U-Boot's autoboot is stopped by keys sent while it counts down.
func (c *Console) Poll(re *regexp.Regexp, timeout, interval time.Duration, tick func() error) (string, error) {
	deadline := time.Now().Add(timeout)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return string(c.pending), fmt.Errorf("%w after %s waiting for %q on %s", ErrTimeout, timeout, re.String(), c.Device)
		}
		text, err := c.Expect(re, min(interval, left))
		if !errors.Is(err, ErrTimeout) {
			return text, err
		}
		if err := tick(); err != nil {
			return text, err
		}
	}
}

// Send types s. It is written in small pieces: a real UART's U-Boot reads
// a few bytes of FIFO at a time and drops what overflows while it echoes.
func (c *Console) Send(s string) error {
	for len(s) > 0 {
		n := min(len(s), 16)
		if _, err := c.port.Write([]byte(s[:n])); err != nil {
			return fmt.Errorf("console %s: write: %w", c.Device, err)
		}
		s = s[n:]
		time.Sleep(2 * time.Millisecond)
	}
	return nil
}

// Reader is the rest of the console as a stream, starting with what
// Expect read but did not consume; it ends when the device does.
func (c *Console) Reader() io.Reader { return &rest{c: c} }

type rest struct{ c *Console }

func (r *rest) Read(p []byte) (int, error) {
	c := r.c
	if len(c.pending) == 0 {
		b, ok := <-c.chunks
		if !ok {
			return 0, io.EOF
		}
		c.pending = b
	}
	n := copy(p, c.pending)
	c.pending = c.pending[n:]
	return n, nil
}

// Close closes the device; reading ends.
func (c *Console) Close() error { return c.port.Close() }
