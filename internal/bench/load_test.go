package bench_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/invitegate/invitegate/internal/bench"
	"github.com/invitegate/invitegate/internal/graph"
)

func TestSummarizeNearestRank(t *testing.T) {
	var r bench.Result
	for i := 100; i >= 1; i-- {
		r.Latencies = append(r.Latencies, time.Duration(i)*time.Millisecond)
	}
	r.Elapsed = time.Second
	s := r.Summarize()
	if s.N != 100 || s.P50 != 50*time.Millisecond || s.P95 != 95*time.Millisecond || s.P99 != 99*time.Millisecond || s.Max != 100*time.Millisecond || s.Rate != 100 {
		t.Fatalf("got %+v", s)
	}
	if got := (bench.Result{}).Summarize(); got.N != 0 || got.P99 != 0 {
		t.Fatalf("empty result: %+v", got)
	}
}

func TestOpenKeepsTheSchedule(t *testing.T) {
	t.Parallel()
	const rate, d = 200.0, 250 * time.Millisecond
	r := bench.Open(context.Background(), rate, d, time.Second, 100, func(context.Context, int) error { return nil })
	if r.Sent != 50 || len(r.Latencies) != 50 || r.Failed != 0 {
		t.Fatalf("sent %d, answered %d, failed %d; want 50, 50, 0", r.Sent, len(r.Latencies), r.Failed)
	}
	if r.Elapsed < d-10*time.Millisecond || r.Elapsed > d+200*time.Millisecond {
		t.Errorf("took %v for a %v run", r.Elapsed, d)
	}
	seen := map[int]bool{}
	for _, i := range r.Calls {
		seen[i] = true
	}
	if len(seen) != 50 {
		t.Errorf("%d distinct calls, want 50", len(seen))
	}
}

// A server that never answers cannot stretch a run past d + grace, and
// calls over the in-flight cap fail instead of queueing.
func TestOpenIsBounded(t *testing.T) {
	t.Parallel()
	const d, grace = 100 * time.Millisecond, 200 * time.Millisecond
	started := time.Now()
	r := bench.Open(context.Background(), 100, d, grace, 4, func(ctx context.Context, _ int) error {
		<-ctx.Done()
		return ctx.Err()
	})
	if took := time.Since(started); took > d+grace+300*time.Millisecond {
		t.Errorf("took %v, want about %v", took, d+grace)
	}
	if r.Sent != 10 || r.Failed != 10 || len(r.Latencies) != 0 {
		t.Fatalf("sent %d, failed %d, answered %d; want 10, 10, 0", r.Sent, r.Failed, len(r.Latencies))
	}
}

// The bodies the benchmark sends are requests the gate accepts, carrying
// the address and correlation id they were made with.
func TestSignUpBodyIsAnEntraRequest(t *testing.T) {
	const id = "c0ffee00-0000-4000-8000-000000000001"
	for _, submit := range []bool{false, true} {
		ev := graph.AttributeCollectionStart
		if submit {
			ev = graph.AttributeCollectionSubmit
		}
		// A quote is escaped, or the body would not be JSON.
		if _, err := graph.Decode(bytes.NewReader(bench.SignUpBody(submit, `o"brien@example.org`, id)), ev); err != nil {
			t.Fatalf("submit %v, an address with a quote: %v", submit, err)
		}
		req, err := graph.Decode(bytes.NewReader(bench.SignUpBody(submit, "Jo@Example.org", id)), ev)
		if err != nil {
			t.Fatalf("submit %v: %v", submit, err)
		}
		if e := req.Evidence(); e.Email != "jo@example.org" || e.SignIn != graph.SignInLocal {
			t.Errorf("submit %v: Evidence() = %+v, want a local account's jo@example.org", submit, e)
		}
		if req.CorrelationID() != id || req.AppID() != bench.AppID {
			t.Errorf("submit %v: correlation id %q, app %q", submit, req.CorrelationID(), req.AppID())
		}
	}
}
