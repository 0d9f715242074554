package server

import (
	"sync"
	"time"
)

// rateLog writes at most one log line per key per interval, with a count:
// the first event of a key is logged at once; events in the following
// interval are counted and logged together when it ends. A flood (of
// overload, or of forged tokens) then costs a line a second, and no event
// goes uncounted.
type rateLog struct {
	every time.Duration
	emit  func(key string, n int64, detail string)

	mu      sync.Mutex
	pending map[string]int64 // key → events since its last line; present while the key's interval runs
}

func newRateLog(every time.Duration, emit func(key string, n int64, detail string)) *rateLog {
	return &rateLog{every: every, emit: emit, pending: make(map[string]int64)}
}

// hit counts one event of key. detail is logged when this event opens an
// interval (its line is written at once), and dropped otherwise.
func (r *rateLog) hit(key, detail string) {
	r.mu.Lock()
	if _, running := r.pending[key]; running {
		r.pending[key]++
		r.mu.Unlock()
		return
	}
	r.pending[key] = 0
	r.mu.Unlock()
	r.emit(key, 1, detail)
	time.AfterFunc(r.every, func() { r.flush(key) })
}

// flush ends key's interval: it logs what was counted, and if anything
// was, starts another interval.
func (r *rateLog) flush(key string) {
	r.mu.Lock()
	n := r.pending[key]
	if n == 0 {
		delete(r.pending, key)
		r.mu.Unlock()
		return
	}
	r.pending[key] = 0
	r.mu.Unlock()
	r.emit(key, n, "")
	time.AfterFunc(r.every, func() { r.flush(key) })
}
