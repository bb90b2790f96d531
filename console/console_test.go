package console

import (
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY opens a real pseudo-terminal pair: the test plays the board on
// the master side, the console opens the slave as a serial device, as it
// opens QEMU's -serial pty or a USB adapter.
func openPTY(t *testing.T) (*os.File, string) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	return m, fmt.Sprintf("/dev/pts/%d", n)
}

func TestExpectSendReader(t *testing.T) {
	m, dev := openPTY(t)
	defer m.Close()
	var log strings.Builder
	c, err := Open(dev, 115200, &logWriter{&log})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(m, "U-Boot 2023.01\r\nHit any key to stop autoboot:  2 \r\n=> ")
	prompt := regexp.MustCompile(`(?:^|\n)=> $`)
	text, err := c.Expect(prompt, 5*time.Second)
	if err != nil || !strings.Contains(text, "U-Boot 2023.01") {
		t.Fatalf("Expect = %q, %v", text, err)
	}
	if err := c.Send("version\n"); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, _ := m.Read(buf)
	if got := strings.ReplaceAll(string(buf[:n]), "\r", ""); !strings.HasPrefix(got, "version") {
		t.Errorf("the board got %q, want the command typed", got)
	}
	// What comes after the prompt goes to the watcher whole, the bytes
	// Expect read past its match included.
	io.WriteString(m, "Starting kernel ...\r\n[    0.000000] Booting Linux\r\n")
	if _, err := c.Expect(regexp.MustCompile(`Starting kernel \.\.\.`), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 0, 64)
	r := c.Reader()
	for !strings.Contains(string(got), "Booting Linux") {
		n, err := r.Read(buf)
		if err != nil {
			t.Fatalf("Reader: %v after %q", err, got)
		}
		got = append(got, buf[:n]...)
	}
	if !strings.HasPrefix(string(got), "\r\n[    0.000000]") {
		t.Errorf("Reader starts %q, want the rest of the line after the match", got)
	}
	if tail := c.Tail(2); len(tail) != 2 || tail[1] != "[    0.000000] Booting Linux" {
		t.Errorf("Tail(2) = %q", tail)
	}
	if !strings.Contains(log.String(), "Hit any key") {
		t.Errorf("the log lacks the console's text: %q", log.String())
	}
}

func TestExpectTimeout(t *testing.T) {
	m, dev := openPTY(t)
	defer m.Close()
	c, err := Open(dev, 115200, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(m, "no prompt here\r\n")
	start := time.Now()
	_, err = c.Expect(regexp.MustCompile(`=> $`), 300*time.Millisecond)
	if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), dev) {
		t.Errorf("Expect = %v, want a timeout naming %s", err, dev)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s", d)
	}
}

// TestGone: the other side goes away (the master closed, as QEMU exiting
// or a USB adapter pulled): waits end at once with an error that names
// the device, and the watcher's stream ends.
func TestGone(t *testing.T) {
	m, dev := openPTY(t)
	c, err := Open(dev, 115200, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(m, "last words\r\n")
	time.Sleep(100 * time.Millisecond)
	m.Close()
	_, err = c.Expect(regexp.MustCompile(`=> $`), time.Minute)
	if err == nil || !strings.Contains(err.Error(), "vanished") || !strings.Contains(err.Error(), dev) {
		t.Fatalf("Expect = %v, want the device named as vanished", err)
	}
	if _, err := io.ReadAll(c.Reader()); err != nil {
		t.Errorf("Reader after the device went: %v, want EOF", err)
	}
	if tail := c.Tail(5); len(tail) == 0 || tail[len(tail)-1] != "last words" {
		t.Errorf("Tail = %q", tail)
	}
}

func TestOpenMissing(t *testing.T) {
	_, err := Open("/dev/ttyUSB-kdumpkit-none", 115200, nil)
	if err == nil || !strings.Contains(err.Error(), "/dev/ttyUSB-kdumpkit-none") {
		t.Errorf("Open = %v, want an error naming the device", err)
	}
}

type logWriter struct{ b *strings.Builder }

func (l *logWriter) Write(p []byte) (int, error) { return l.b.Write(p) }
