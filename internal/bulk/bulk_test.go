package bulk

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// items yields 0, 1, … n-1.
func items(n int) func() (int, bool, error) {
	i := 0
	return func() (int, bool, error) {
		if i == n {
			return 0, false, nil
		}
		i++
		return i - 1, true, nil
	}
}

func TestRunReportsInOrder(t *testing.T) {
	const n, workers = 500, 8
	var inFlight, most atomic.Int64
	var got []int
	err := Run(context.Background(), workers, items(n), func(ctx context.Context, i int) int {
		now := inFlight.Add(1)
		for m := most.Load(); now > m && !most.CompareAndSwap(m, now); m = most.Load() {
		}
		if i%7 == 0 {
			time.Sleep(time.Millisecond) // finish out of order
		}
		inFlight.Add(-1)
		return i * 2
	}, func(r int) error {
		got = append(got, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("%d results, want %d", len(got), n)
	}
	for i, r := range got {
		if r != 2*i {
			t.Fatalf("result %d = %d, want %d: not in input order", i, r, 2*i)
		}
	}
	if most.Load() > workers {
		t.Fatalf("%d items worked on at once, with %d workers", most.Load(), workers)
	}
}

func TestRunStops(t *testing.T) {
	stop := errors.New("stop")
	reported := 0
	err := Run(context.Background(), 4, items(1000), func(ctx context.Context, i int) int { return i },
		func(r int) error {
			reported++
			if r == 10 {
				return stop
			}
			return nil
		})
	if !errors.Is(err, stop) || reported != 11 {
		t.Fatalf("Run = %v after %d reports, want stop after 11", err, reported)
	}

	bad := errors.New("unreadable")
	i := 0
	err = Run(context.Background(), 4, func() (int, bool, error) {
		if i == 5 {
			return 0, false, bad
		}
		i++
		return i, true, nil
	}, func(ctx context.Context, i int) int { return i }, func(int) error { return nil })
	if !errors.Is(err, bad) {
		t.Fatalf("Run with a failing input = %v, want its error", err)
	}

	// Canceled: the items not done are not reported, and Run says so.
	ctx, cancel := context.WithCancel(context.Background())
	reported = 0
	err = Run(ctx, 2, items(1000), func(ctx context.Context, i int) int { return i }, func(r int) error {
		if reported++; reported == 3 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || reported >= 1000 {
		t.Fatalf("Run canceled after 3 reports = %v after %d, want context.Canceled", err, reported)
	}
}
