package tablestore_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/invitegate/invitegate/internal/invite"
	"github.com/invitegate/invitegate/internal/tablestore"
	"github.com/invitegate/invitegate/internal/testutil/azurite"
)

// emptyFirstPage answers the first query of one partition with what Azure
// Table Storage may send: no rows and a continuation token. The follow-up
// request (which carries the token) is passed on without it, so the real
// service answers it from the start, as it would have continued.
type emptyFirstPage struct {
	partition string
	served    atomic.Int64 // empty pages sent
	followed  atomic.Int64 // follow-up requests seen
}

func (e *emptyFirstPage) RoundTrip(r *http.Request) (*http.Response, error) {
	q := r.URL.Query()
	if r.Method != http.MethodGet || !strings.Contains(q.Get("$filter"), e.partition) {
		return http.DefaultTransport.RoundTrip(r)
	}
	if q.Get("NextPartitionKey") == "" {
		e.served.Add(1)
		h := http.Header{}
		h.Set("Content-Type", "application/json;odata=minimalmetadata")
		h.Set("x-ms-continuation-NextPartitionKey", "1!8!bm9uZQ--")
		h.Set("x-ms-continuation-NextRowKey", "1!8!bm9uZQ--")
		return &http.Response{
			StatusCode: http.StatusOK, Status: "200 OK", Header: h, Request: r,
			Body: io.NopCloser(bytes.NewReader([]byte(`{"value":[]}`))),
		}, nil
	}
	e.followed.Add(1)
	q.Del("NextPartitionKey")
	q.Del("NextRowKey")
	r = r.Clone(r.Context())
	r.URL.RawQuery = q.Encode()
	return http.DefaultTransport.RoundTrip(r)
}

func TestMatchFollowsEmptyContinuationPage(t *testing.T) {
	conn := azurite.Connection(t)
	const email = "revoked@example.org"
	tr := &emptyFirstPage{partition: "'" + email + "'"}
	s := newTable(t, conn, tablestore.Options{HTTPClient: &http.Client{Transport: tr}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, inv := range []invite.Invitation{
		{Key: invite.Key{Subject: "@example.org", App: invite.AnyApp}, Status: invite.StatusPending},
		{Key: invite.Key{Subject: email, App: invite.AnyApp}, Status: invite.StatusRevoked},
	} {
		if err := s.Put(ctx, inv); err != nil {
			t.Fatal(err)
		}
	}
	m, err := s.Match(ctx, email, "")
	if err != nil {
		t.Fatal(err)
	}
	if m.AddressAny == nil || m.AddressAny.Status != invite.StatusRevoked {
		t.Fatalf("the address's revocation was hidden behind an empty page: AddressAny = %+v", m.AddressAny)
	}
	if d := invite.Decide(m, time.Now()); d.Outcome != invite.Revoked {
		t.Fatalf("Decide = %s, want revoked (the domain invitation must not decide)", d.Outcome)
	}
	if tr.served.Load() != 1 || tr.followed.Load() != 1 {
		t.Fatalf("transport served %d empty pages and saw %d follow-ups; the test did not exercise a continuation", tr.served.Load(), tr.followed.Load())
	}
}
