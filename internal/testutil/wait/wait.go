// Package wait holds the two ways the process-level tests wait: for a
// condition to come true, and for requests sent at once to all return.
package wait

import (
	"sync"
	"testing"
	"time"
)

// Until calls f every 25 ms until it returns "" and fails the test with
// f's last message when timeout passes first.
func Until(t testing.TB, timeout time.Duration, what string, f func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		msg := f()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still failing after %v: %s", what, timeout, msg)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// All runs f(0) … f(n-1) at once and returns their results in order.
func All[T any](n int, f func(i int) T) []T {
	out := make([]T, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = f(i)
		}()
	}
	wg.Wait()
	return out
}
