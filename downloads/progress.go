package downloads

import (
	"os"
	"time"

	"github.com/cavaliergopher/grab/v3"
	"github.com/schollz/progressbar/v3"
)

// watch reports a transfer until it ends: a bar on a terminal, else a
// line every LogEvery (CI logs and pipes want lines, not carriage returns).
// Each poll that finds new bytes tells the idle watch.
func (f *Fetcher) watch(resp *grab.Response, name string, idle *idleWatch) {
	every := f.LogEvery
	if every <= 0 {
		every = 5 * time.Second
	}
	var bar *progressbar.ProgressBar
	if f.Progress {
		bar = progressbar.DefaultBytes(resp.Size(), name)
		every = 200 * time.Millisecond
	}
	poll := min(200*time.Millisecond, idle.idle/4)
	t := time.NewTicker(poll)
	defer t.Stop()
	lastLog, lastBytes := time.Now(), resp.BytesComplete()
	for {
		select {
		case <-resp.Done:
			if bar != nil {
				bar.Set64(resp.BytesComplete())
				bar.Finish()
			}
			return
		case now := <-t.C:
			n := resp.BytesComplete()
			idle.progress(n - lastBytes)
			lastBytes = n
			if now.Sub(lastLog) < every {
				continue
			}
			lastLog = now
			if bar != nil {
				bar.Set64(resp.BytesComplete())
				continue
			}
			f.logf("download: %s: %.0f%% of %d bytes, %.1f MB/s", name, 100*resp.Progress(), resp.Size(), resp.BytesPerSecond()/1e6)
		}
	}
}

// IsTerminal reports whether f is a character device (a terminal), to
// choose between a progress bar and log lines.
func IsTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
