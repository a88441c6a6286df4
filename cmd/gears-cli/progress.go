package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// progress draws an upload progress bar on stderr for large payloads when
// stderr is a terminal (or GEARS_CLI_PROGRESS=1). A nil *progress does
// nothing, so callers need no checks.
type progress struct {
	w        io.Writer
	label    string
	total    int64
	sent     int64
	start    time.Time
	lastDraw time.Time
	ended    bool
}

// progressMin is the payload size from which a bar is drawn.
const progressMin = 1 << 20

func newProgress(label string, total int64) *progress {
	force := os.Getenv("GEARS_CLI_PROGRESS")
	if force == "0" || (force == "" && (total < progressMin || !colorOnTTY(stderr))) {
		return nil
	}
	return &progress{w: stderr, label: label, total: max(total, 1), start: time.Now()}
}

func colorOnTTY(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func (p *progress) add(n int64) {
	if p == nil {
		return
	}
	p.sent += n
	if now := time.Now(); now.Sub(p.lastDraw) >= 100*time.Millisecond || p.sent >= p.total {
		p.lastDraw = now
		p.draw()
	}
}

func (p *progress) draw() {
	const width = 30
	frac := float64(p.sent) / float64(p.total)
	frac = min(frac, 1)
	fill := int(frac * width)
	rate := float64(p.sent) / max(time.Since(p.start).Seconds(), 1e-3)
	fmt.Fprintf(p.w, "\r%s [%s%s] %5.1f%% %s/%s %s/s", p.label, strings.Repeat("=", fill), strings.Repeat(" ", width-fill),
		frac*100, human(p.sent), human(p.total), human(int64(rate)))
}

func (p *progress) done() {
	if p == nil || p.ended {
		return
	}
	p.ended = true
	p.draw()
	fmt.Fprintln(p.w)
}

func human(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1fGiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1fMiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1fKiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%dB", n)
}
