package server_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/rs/zerolog"

	"github.com/invitegate/invitegate/internal/invite"
	"github.com/invitegate/invitegate/internal/invite/invitetest"
	"github.com/invitegate/invitegate/internal/server"
	"github.com/invitegate/invitegate/internal/testutil/fixtures"
)

// BenchmarkServe measures the gate's own work for one request, one at a
// time, without the network or a real store: authenticate (accept all),
// decode, find the email, look up the in-memory store, decide, encode, and
// write the JSON log line. Every request has its own correlation id, as
// Entra's do.
//
//	go test -run '^$' -bench Serve -benchmem ./internal/server/
func BenchmarkServe(b *testing.B) {
	store := invitetest.NewMemory()
	for _, inv := range []invite.Invitation{
		{
			Key: invite.Key{Subject: "jo.bloggs@example.org", App: invite.AnyApp}, Status: invite.StatusPending,
			Prefill: map[string]string{"givenName": "Jo", "surname": "Bloggs", ext + "MemberYear": "2024", ext + "Newsletter": "true"},
			Set:     map[string]string{"companyName": "Example Ltd", ext + "MemberYear": "2024"},
		},
		{Key: invite.Key{Subject: "@partner.example", App: appID}, Status: invite.StatusPending},
	} {
		if err := store.Put(context.Background(), inv); err != nil {
			b.Fatal(err)
		}
	}
	// The log is encoded as in production, then thrown away.
	srv := server.New(server.Deps{
		Store: store, Auth: server.AuthenticatorFunc(func(*http.Request) error { return nil }),
		Log: zerolog.New(discard{}).With().Timestamp().Str("service", "invitegate").Logger(),
	})
	for _, tc := range []struct {
		name, route, fixture, action string
	}{
		{"start/invited by address", "attributeStart", "start-email-otp.json", "setPrefillValues"},
		{"start/invited through a domain", "attributeStart", "start-email-password.json", "continueWithDefaultBehavior"},
		{"start/not invited", "attributeStart", "start-not-invited.json", "showBlockPage"},
		{"submit/invited by address", "attributeSubmit", "submit-no-identities.json", "modifyAttributeValues"},
		{"submit/invited through a domain", "attributeSubmit", "submit-email-password.json", "continueWithDefaultBehavior"},
		{"submit/not invited", "attributeSubmit", "submit-not-invited.json", "showBlockPage"},
	} {
		body := fixtures.Request(b, tc.fixture)
		corr := correlationIn(b, body)
		b.Run(tc.name, func(b *testing.B) {
			w := &responseRecorder{}
			n := 0
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				n++
				id := fmt.Appendf(append([]byte{}, corr[:len(corr)-12]...), "%012d", n)
				req := httptest.NewRequest(http.MethodPost, "/api/"+tc.route, bytes.NewReader(bytes.Replace(body, corr, id, 1)))
				req.Header.Set("Content-Type", "application/json")
				w.reset()
				srv.ServeHTTP(w, req)
				if w.status != http.StatusOK || !bytes.Contains(w.body.Bytes(), []byte(tc.action)) {
					b.Fatalf("status %d: %s, want %s", w.status, w.body.String(), tc.action)
				}
			}
		})
	}
}

// correlationIn returns the correlation id of a fixture body, so that each
// iteration can replace its last 12 characters.
func correlationIn(b *testing.B, body []byte) []byte {
	_, rest, ok := bytes.Cut(body, []byte(`"correlationId": "`))
	id, _, ok2 := bytes.Cut(rest, []byte(`"`))
	if !ok || !ok2 || len(id) < 12 {
		b.Fatalf("no correlation id in the fixture")
	}
	return id
}

// responseRecorder is a reusable http.ResponseWriter, lighter than
// httptest.ResponseRecorder so the benchmark measures the server.
type responseRecorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *responseRecorder) reset() {
	if r.header == nil {
		r.header = http.Header{}
	}
	clear(r.header)
	r.status = 0
	r.body.Reset()
}

func (r *responseRecorder) Header() http.Header { return r.header }

func (r *responseRecorder) WriteHeader(status int) { r.status = status }

func (r *responseRecorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(p)
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
