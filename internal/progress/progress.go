// Package progress shows progress on long work — a bar when the total is
// known, a live counter of elapsed time when it is not — on a terminal
// only: written to a file or a pipe, a redrawn line would leave a trail of
// carriage returns, so there it draws nothing and the caller prints its
// usual one line per phase.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// IsTerminal reports whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Bar is a progress bar of done out of total on one redrawn line.
type Bar struct {
	w     io.Writer // nil: not a terminal, draws nothing
	label string
	total int

	mu   sync.Mutex
	done int
}

// NewBar returns a bar of total steps drawn on w if w is a terminal.
func NewBar(w io.Writer, label string, total int) *Bar {
	b := &Bar{label: label, total: max(total, 1)}
	if IsTerminal(w) {
		b.w = w
		b.draw()
	}
	return b
}

// Add counts n more steps done.
func (b *Bar) Add(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done += n
	b.draw()
}

func (b *Bar) draw() {
	if b.w == nil {
		return
	}
	const width = 40
	filled := min(b.done, b.total) * width / b.total
	fmt.Fprintf(b.w, "\r%s [%s%s] %d/%d", b.label, strings.Repeat("#", filled), strings.Repeat(".", width-filled), b.done, b.total)
}

// Close erases the bar's line.
func (b *Bar) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.w != nil {
		fmt.Fprint(b.w, "\r\033[K")
		b.w = nil
	}
}

// Counter redraws "label… Ns" every second on w while work of unknown
// length runs, if w is a terminal.
type Counter struct {
	stop chan struct{}
	done sync.WaitGroup
}

// StartCounter starts a counter; Stop erases it.
func StartCounter(w io.Writer, label string) *Counter {
	c := &Counter{stop: make(chan struct{})}
	if !IsTerminal(w) {
		return c
	}
	start := time.Now()
	c.done.Add(1)
	go func() {
		defer c.done.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			fmt.Fprintf(w, "\r%s… %ds", label, int(time.Since(start).Seconds()))
			select {
			case <-t.C:
			case <-c.stop:
				fmt.Fprint(w, "\r\033[K")
				return
			}
		}
	}()
	return c
}

// Stop stops the counter and erases its line.
func (c *Counter) Stop() {
	select {
	case <-c.stop:
	default:
		close(c.stop)
	}
	c.done.Wait()
}
