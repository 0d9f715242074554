package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// progress shows how far a bulk command has got, on standard error: one
// line redrawn in place on a terminal, a plain line every progressEvery
// otherwise (a CI log, a redirect).
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	tty   bool
	verb  string
	total int
	done  int
	start time.Time
	drawn bool
	quit  chan struct{}
	ended chan struct{}
}

const progressEvery = 10 * time.Second

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// startProgress starts reporting progress towards total rows.
func (c *cli) startProgress(verb string, total int) *progress {
	p := &progress{w: c.stderr, tty: isTerminal(c.stderr), verb: verb, total: total, start: time.Now(),
		quit: make(chan struct{}), ended: make(chan struct{})}
	every := progressEvery
	if p.tty {
		every = 200 * time.Millisecond
	}
	go func() {
		defer close(p.ended)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-p.quit:
				return
			case <-t.C:
				p.mu.Lock()
				p.draw()
				p.mu.Unlock()
			}
		}
	}()
	return p
}

// add counts n more rows done.
func (p *progress) add(n int) {
	p.mu.Lock()
	p.done += n
	p.mu.Unlock()
}

// printf writes a line to w without tearing the progress line.
func (p *progress) printf(w io.Writer, format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty && p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.drawn = false
	}
	fmt.Fprintf(w, format, args...)
}

// stop ends the reports; on a terminal the final state stays visible.
func (p *progress) stop() {
	close(p.quit)
	<-p.ended
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty && p.total > 0 {
		p.draw()
		fmt.Fprintln(p.w)
	}
}

func (p *progress) draw() {
	elapsed := time.Since(p.start)
	line := fmt.Sprintf("%s %d/%d rows", p.verb, p.done, p.total)
	if p.total > 0 {
		pct := p.done * 100 / p.total
		line += fmt.Sprintf(" (%d%%)", pct)
		if p.tty {
			const width = 24
			fill := p.done * width / p.total
			line = fmt.Sprintf("%s [%s%s] %d/%d (%d%%)", p.verb, strings.Repeat("=", fill), strings.Repeat(" ", width-fill), p.done, p.total, pct)
		}
	}
	if rate := float64(p.done) / elapsed.Seconds(); p.done > 0 && elapsed > 0 {
		line += fmt.Sprintf(", %.0f rows/s", rate)
		if left := p.total - p.done; left > 0 {
			line += fmt.Sprintf(", ETA %v", time.Duration(math.Ceil(float64(left)/rate))*time.Second)
		} else {
			line += fmt.Sprintf(", took %v", elapsed.Round(100*time.Millisecond))
		}
	}
	if p.tty {
		fmt.Fprint(p.w, "\r\x1b[K"+line)
		p.drawn = true
		return
	}
	fmt.Fprintln(p.w, line)
}
