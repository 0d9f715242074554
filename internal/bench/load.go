package bench

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"time"
)

// Result is what a run of requests measured.
type Result struct {
	Latencies []time.Duration // of the requests that succeeded
	Lags      []time.Duration // Open only: how late each request was sent
	Calls     []int           // Open only: the i of each latency, in the same order
	Failed    int             // errors, wrong answers and requests over the in-flight cap
	Sent      int
	Elapsed   time.Duration
	Samples   []string // the first few failures
}

const maxSamples = 5

func (r *Result) fail(err error) {
	r.Failed++
	if len(r.Samples) < maxSamples {
		r.Samples = append(r.Samples, err.Error())
	}
}

// Sequential calls do n times, one call at a time, and times each call.
func Sequential(ctx context.Context, n int, do func(ctx context.Context, i int) error) Result {
	r := Result{Latencies: make([]time.Duration, 0, n)}
	start := time.Now()
	for i := 0; i < n && ctx.Err() == nil; i++ {
		t := time.Now()
		err := do(ctx, i)
		d := time.Since(t)
		r.Sent++
		if err != nil {
			r.fail(err)
			continue
		}
		r.Latencies = append(r.Latencies, d)
	}
	r.Elapsed = time.Since(start)
	return r
}

// Open is an open-loop load: it starts call i at start + i/rate for the
// duration d, whether or not earlier calls have answered, as independent
// people signing up would. Because no call waits for another, a slow answer
// cannot hold back the next request (no coordinated omission), and each
// latency is measured from when its call began. How late each call began
// compared with its schedule is kept in Lags: it is the load generator's
// own error, which grows when the machine runs out of CPU. At most
// maxInFlight calls run at once; a call due while that many are
// outstanding is counted as failed. Calls still outstanding grace after
// the last one was due are cancelled and counted as failed, so a run ends
// within d + grace.
func Open(ctx context.Context, rate float64, d, grace time.Duration, maxInFlight int, do func(ctx context.Context, i int) error) Result {
	n := int(math.Round(rate * d.Seconds()))
	interval := time.Duration(float64(time.Second) / rate)
	var (
		mu       sync.Mutex
		r        = Result{Latencies: make([]time.Duration, 0, n), Lags: make([]time.Duration, 0, n), Calls: make([]int, 0, n)}
		wg       sync.WaitGroup
		inFlight = make(chan struct{}, maxInFlight)
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The Go runtime's timers wake about a millisecond late on Linux; a
	// nanosleep on a thread of its own keeps the schedule to tens of
	// microseconds without spinning a core.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start := time.Now()
	for i := 0; i < n && ctx.Err() == nil; i++ {
		due := start.Add(time.Duration(i) * interval)
		sleepUntil(due)
		r.Sent++ // only this goroutine writes Sent
		select {
		case inFlight <- struct{}{}:
		default:
			mu.Lock()
			r.fail(fmt.Errorf("more than %d requests in flight", maxInFlight))
			mu.Unlock()
			continue
		}
		wg.Add(1)
		go func(i int, due time.Time) {
			defer wg.Done()
			began := time.Now()
			err := do(ctx, i)
			lat := time.Since(began)
			<-inFlight
			mu.Lock()
			defer mu.Unlock()
			r.Lags = append(r.Lags, began.Sub(due))
			if err != nil {
				r.fail(err)
				return
			}
			r.Latencies = append(r.Latencies, lat)
			r.Calls = append(r.Calls, i)
		}(i, due)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(grace):
		cancel() // outstanding calls fail with the context's error
		<-done
	}
	r.Elapsed = time.Since(start)
	return r
}

// sleepUntil blocks the calling thread until t.
func sleepUntil(t time.Time) {
	for {
		d := time.Until(t)
		if d <= 0 {
			return
		}
		ts := syscall.NsecToTimespec(int64(d))
		if syscall.Nanosleep(&ts, nil) == nil {
			return
		}
	}
}

// Only returns the part of r whose calls keep says to keep (Open results
// only): the latencies of one kind of request in a mix.
func (r Result) Only(keep func(i int) bool) Result {
	out := Result{Elapsed: r.Elapsed}
	for j, i := range r.Calls {
		if keep(i) {
			out.Latencies = append(out.Latencies, r.Latencies[j])
		}
	}
	return out
}

// Summary is the distribution of a Result's latencies.
type Summary struct {
	N, Failed          int
	P50, P95, P99, Max time.Duration
	Rate               float64       // answered requests per second
	LagP99             time.Duration // Open only: the 99th percentile of Lags
}

// Summarize sorts r's latencies and reads off the percentiles (nearest
// rank).
func (r Result) Summarize() Summary {
	l := slices.Clone(r.Latencies)
	slices.Sort(l)
	s := Summary{N: len(l), Failed: r.Failed}
	if r.Elapsed > 0 {
		s.Rate = float64(len(l)) / r.Elapsed.Seconds()
	}
	if len(l) == 0 {
		return s
	}
	at := func(p float64) time.Duration {
		i := int(math.Ceil(p*float64(len(l)))) - 1
		return l[max(0, min(i, len(l)-1))]
	}
	s.P50, s.P95, s.P99, s.Max = at(0.50), at(0.95), at(0.99), l[len(l)-1]
	if len(r.Lags) > 0 {
		s.LagP99 = Result{Latencies: r.Lags}.Summarize().P99
	}
	return s
}

// Ms formats d in milliseconds with two decimals.
func Ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond)) }
