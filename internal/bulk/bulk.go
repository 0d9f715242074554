// Package bulk runs one operation per item of a long input on a few
// goroutines, and reports the results in input order, so that a command
// changing thousands of invitations (each its own Table Storage partition,
// so no batch transaction can group them) keeps a bounded number of
// requests in flight and prints its progress in file order.
package bulk

import (
	"context"
	"sync"
)

// Run calls work for every item next yields, on n goroutines,
// and report with the results in the order of the items, on the calling
// goroutine. At most 4n items are in flight, whatever their order of
// completion. It stops at the first error of next or report; a
// failure of work is a result, for report to judge.
func Run[T, R any](parent context.Context, n int, next func() (T, bool, error), work func(context.Context, T) R, report func(R) error) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	type job struct {
		seq  int
		item T
	}
	type result struct {
		seq int
		r   R
	}
	window := 4 * n
	jobs := make(chan job)
	results := make(chan result, window)
	slots := make(chan struct{}, window) // taken per item, freed when reported

	var nextErr error
	go func() {
		defer close(jobs)
		for seq := 0; ; seq++ {
			item, ok, err := next()
			if err != nil || !ok {
				nextErr = err
				return
			}
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- job{seq, item}:
			case <-ctx.Done():
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for j := range jobs {
				results <- result{j.seq, work(ctx, j.item)}
			}
		})
	}
	go func() { wg.Wait(); close(results) }()

	pending := make(map[int]R, window)
	want := 0
	var reportErr error
	for res := range results {
		if reportErr != nil {
			continue // drain, so the workers can finish
		}
		pending[res.seq] = res.r
		for r, ok := pending[want]; ok; r, ok = pending[want] {
			delete(pending, want)
			want++
			<-slots
			if reportErr = report(r); reportErr != nil {
				cancel()
				break
			}
		}
	}
	// results is closed: the workers and the producer are done.
	switch {
	case reportErr != nil:
		return reportErr
	case nextErr != nil:
		return nextErr
	}
	return parent.Err() // interrupted: not every item was done
}
