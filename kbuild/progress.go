package kbuild

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
)

// objectLine is Kbuild's quiet line for one object compiled or assembled
// ("  CC      kernel/fork.o", "  AS      arch/arm/kernel/entry-armv.o",
// "  CC [M]  …"): what the progress counts.
var objectLine = regexp.MustCompile(`^  (CC|AS)( \[M\])? +\S`)

// objectsFile, in the object tree and as <board>.objects beside the
// object trees, records how many objects a build from an empty object tree
// compiled: the total the next cold build of the tree, or of the board
// from another source version, expects.
const objectsFile = ".kdumpkit-objects"

// objectsPerSymbol estimates a first build's object count from its
// .config: vexpress_defconfig (916 =y symbols) compiles 1666 objects,
// 6.12's 1771 of 983, arm64's allnoconfig + fragments 989 of 619.
const objectsPerSymbol = 1.8

// progress counts the objects make reports and shows them: a bar on a
// terminal, else a line every `every` into log. It is an io.Writer for
// make's output.
type progress struct {
	mu       sync.Mutex
	n        int
	total    int  // 0: unknown (an incremental build)
	estimate bool // total is an estimate from .config
	start    time.Time
	partial  []byte

	bar  *progressbar.ProgressBar
	log  io.Writer
	stop chan struct{}
	done sync.WaitGroup
}

// newProgress starts showing progress; bar, when not nil, is the terminal
// to draw on, else a line goes to log every `every`.
func newProgress(total int, estimate bool, bar, log io.Writer, every time.Duration) *progress {
	p := &progress{total: total, estimate: estimate, start: time.Now(), log: log, stop: make(chan struct{})}
	if bar != nil {
		max := int64(total)
		desc := "kernel: objects"
		if total == 0 {
			max = -1 // a spinner: the count without a total
			desc = "kernel: objects rebuilt"
		} else if estimate {
			desc = "kernel: objects (estimated total)"
		}
		p.bar = progressbar.NewOptions64(max, progressbar.OptionSetWriter(bar), progressbar.OptionSetDescription(desc),
			progressbar.OptionShowCount(), progressbar.OptionSetElapsedTime(true), progressbar.OptionSetPredictTime(total > 0),
			progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionSetWidth(30), progressbar.OptionClearOnFinish())
		return p
	}
	if every <= 0 {
		every = 30 * time.Second
	}
	p.done.Add(1)
	go func() {
		defer p.done.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				fmt.Fprintf(p.log, "%s\n", p.line())
			}
		}
	}()
	return p
}

// line is the one-line progress: "kernel: 412/1666 objects, 4m10s".
func (p *progress) line() string {
	p.mu.Lock()
	n := p.n
	p.mu.Unlock()
	el := time.Since(p.start).Round(time.Second)
	switch {
	case p.total == 0:
		return fmt.Sprintf("kernel: %d objects rebuilt, %s", n, el)
	case p.estimate:
		return fmt.Sprintf("kernel: %d/~%d objects (a first build's estimate), %s", n, p.total, el)
	}
	return fmt.Sprintf("kernel: %d/%d objects, %s", n, p.total, el)
}

// Write counts the object lines in make's output.
func (p *progress) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	data := b
	if len(p.partial) > 0 {
		data = append(p.partial, b...)
		p.partial = nil
	}
	added := 0
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			if len(data) < 4096 { // no line of Kbuild's is longer; a longer one is not an object line
				p.partial = append([]byte(nil), data...)
			}
			break
		}
		if objectLine.Match(data[:i]) {
			added++
		}
		data = data[i+1:]
	}
	p.n += added
	if p.bar != nil && added > 0 {
		if p.total > 0 && p.n > p.total {
			p.total = p.n
			p.bar.ChangeMax(p.n)
		}
		p.bar.Add(added)
	}
	return len(b), nil
}

// finish stops the display and returns the count.
func (p *progress) finish() int {
	if p.bar != nil {
		p.bar.Finish()
		p.bar.Exit()
	} else {
		close(p.stop)
		p.done.Wait()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n
}

// expectedObjects is what a build from an empty object tree should
// compile: the count recorded by the last such build of this object tree,
// else of this board (another source version), else an estimate from the
// .config's =y symbols.
func expectedObjects(obj, boardFile, config string) (n int, estimate bool) {
	for _, f := range []string{filepath.Join(obj, objectsFile), boardFile} {
		if b, err := os.ReadFile(f); err == nil {
			if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && n > 0 {
				return n, false
			}
		}
	}
	f, err := os.Open(config)
	if err != nil {
		return 0, true
	}
	defer f.Close()
	y := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "CONFIG_") && strings.HasSuffix(sc.Text(), "=y") {
			y++
		}
	}
	return int(float64(y) * objectsPerSymbol), true
}

// recordObjects keeps a cold build's count for the next one.
func recordObjects(n int, files ...string) {
	for _, f := range files {
		os.WriteFile(f, []byte(strconv.Itoa(n)+"\n"), 0o644)
	}
}
