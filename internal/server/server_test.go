package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/invitegate/invitegate/internal/invite"
	"github.com/invitegate/invitegate/internal/invite/invitetest"
	"github.com/invitegate/invitegate/internal/server"
	"github.com/invitegate/invitegate/internal/testutil/fixtures"
)

var update = flag.Bool("update", false, "rewrite golden files")

const (
	appID = fixtures.App
	ext   = fixtures.Ext
)

var now = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)

// seed puts the invitation set the fixtures are written against.
func seed(t *testing.T, s interface {
	Put(context.Context, invite.Invitation) error
}) {
	t.Helper()
	for _, inv := range fixtures.Invitations() {
		if err := s.Put(context.Background(), inv); err != nil {
			t.Fatal(err)
		}
	}
}

func readFixture(t *testing.T, name string) []byte { return fixtures.Request(t, name) }

// golden compares got (JSON) with testdata/golden/name, indented.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	var v any
	if err := json.Unmarshal(got, &v); err != nil {
		t.Fatalf("response is not JSON: %v\n%s", err, got)
	}
	pretty, _ := json.MarshalIndent(v, "", "  ")
	pretty = append(pretty, '\n')
	path := filepath.Join("testdata", "golden", name)
	if *update {
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, pretty, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(pretty, want) {
		t.Errorf("response differs from %s:\n got %s\nwant %s", path, pretty, want)
	}
}

type fixture struct {
	srv   http.Handler
	store *invitetest.Memory
	logs  *bytes.Buffer
}

func newFixture(t *testing.T, auth server.Authenticator) fixture {
	t.Helper()
	store := invitetest.NewMemory()
	seed(t, store)
	if auth == nil {
		auth = server.AuthenticatorFunc(func(*http.Request) error { return nil })
	}
	logs := &bytes.Buffer{}
	srv := server.New(server.Deps{
		Store: store, Auth: auth, Log: zerolog.New(logs),
		Now: func() time.Time { return now }, StoreTimeout: 200 * time.Millisecond,
		EmailIssuers: []string{"google.com"},
	})
	return fixture{srv: srv, store: store, logs: logs}
}

func (f fixture) post(path string, body []byte, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, req)
	return rec
}

func TestSignUps(t *testing.T) {
	for _, tc := range []struct {
		fixture, route, golden, action string
		after                          string // the start fixture of the same sign-up, sent first
	}{
		{"start-email-otp.json", "attributeStart", "start-email-otp.json", "setPrefillValues", ""},
		{"start-email-password.json", "attributeStart", "start-email-password.json", "continueWithDefaultBehavior", ""},
		{"start-google.json", "attributeStart", "start-google.json", "continueWithDefaultBehavior", ""},
		{"start-not-invited.json", "attributeStart", "start-not-invited.json", "showBlockPage", ""},
		{"start-no-email.json", "attributeStart", "start-no-email.json", "showBlockPage", ""},
		{"start-untrusted-provider.json", "attributeStart", "start-untrusted-provider.json", "showBlockPage", ""},
		{"start-username.json", "attributeStart", "start-username.json", "showBlockPage", ""},
		{"submit-no-identities.json", "attributeSubmit", "submit-no-identities.json", "modifyAttributeValues", "start-email-otp.json"},
		{"submit-email-password.json", "attributeSubmit", "submit-email-password.json", "continueWithDefaultBehavior", ""},
		{"submit-google.json", "attributeSubmit", "submit-google.json", "continueWithDefaultBehavior", "start-google.json"},
		{"submit-not-invited.json", "attributeSubmit", "submit-not-invited.json", "showBlockPage", ""},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			f := newFixture(t, nil)
			if tc.after != "" {
				if rec := f.post("/api/attributeStart", readFixture(t, tc.after)); !strings.Contains(rec.Body.String(), "attributeCollectionStart.continueWithDefaultBehavior") &&
					!strings.Contains(rec.Body.String(), "setPrefillValues") {
					t.Fatalf("the sign-up's start was not allowed: %s", rec.Body)
				}
			}
			rec := f.post("/api/"+tc.route, readFixture(t, tc.fixture))
			if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" {
				t.Fatalf("status %d, content-type %q; want 200 application/json", rec.Code, rec.Header().Get("Content-Type"))
			}
			var resp struct {
				Data struct {
					Actions []map[string]any `json:"actions"`
				} `json:"data"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil || len(resp.Data.Actions) != 1 {
				t.Fatalf("want exactly one action, got %s", rec.Body)
			}
			if got := resp.Data.Actions[0]["@odata.type"].(string); !strings.HasSuffix(got, "."+tc.action) {
				t.Errorf("action %s, want %s", got, tc.action)
			}
			golden(t, tc.golden, rec.Body.Bytes())
			if strings.Contains(f.logs.String(), "bloggs@") || strings.Contains(f.logs.String(), "sam@") {
				t.Errorf("log carries a raw email address:\n%s", f.logs)
			}
			if !strings.Contains(f.logs.String(), `"correlation_id"`) {
				t.Errorf("decision log has no correlation id:\n%s", f.logs)
			}
		})
	}
}

func TestSubmitRecordsRedemption(t *testing.T) {
	f := newFixture(t, nil)
	f.post("/api/attributeStart", readFixture(t, "start-email-otp.json"))
	body := readFixture(t, "submit-no-identities.json")
	for i := 0; i < 2; i++ { // Entra's retry carries the same correlation id
		if rec := f.post("/api/attributeSubmit", body); rec.Code != http.StatusOK {
			t.Fatalf("status %d", rec.Code)
		}
	}
	inv, err := f.store.Get(context.Background(), invite.Key{Subject: "jo.bloggs@example.org", App: invite.AnyApp})
	if err != nil {
		t.Fatal(err)
	}
	if inv.Count != 1 || inv.Status != invite.StatusRedeemed || !inv.First.Equal(now) {
		t.Fatalf("after a submit and its retry: %+v, want 1 redemption at %v", inv.Redemptions, now)
	}
	// A domain invitation is recorded per address.
	if rec := f.post("/api/attributeSubmit", readFixture(t, "submit-email-password.json")); rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	r, err := f.store.AddressRedemptions(context.Background(), invite.Key{Subject: "@partner.example", App: appID}, "sam@partner.example")
	if err != nil || r.Count != 1 {
		t.Fatalf("per-address redemption = %+v, %v; want 1", r, err)
	}
}

// A start that was allowed does not make a later submit allowed: submit
// checks again.
func TestSubmitChecksAgain(t *testing.T) {
	f := newFixture(t, nil)
	if rec := f.post("/api/attributeStart", readFixture(t, "start-email-otp.json")); !strings.Contains(rec.Body.String(), "setPrefillValues") {
		t.Fatalf("start: %s", rec.Body)
	}
	if err := f.store.SetStatus(context.Background(), invite.Key{Subject: "jo.bloggs@example.org", App: invite.AnyApp}, invite.StatusRevoked); err != nil {
		t.Fatal(err)
	}
	rec := f.post("/api/attributeSubmit", readFixture(t, "submit-no-identities.json"))
	if !strings.Contains(rec.Body.String(), "showBlockPage") {
		t.Fatalf("submit after revocation: %s", rec.Body)
	}
}

func TestOutcomeMessages(t *testing.T) {
	for _, tc := range []struct {
		name   string
		inv    invite.Invitation
		title  string
		expect string
	}{
		{"expired", invite.Invitation{Status: invite.StatusPending, Expires: now.Add(-time.Second)}, "Invitation expired", server.DefaultExpiredMessage},
		{"revoked", invite.Invitation{Status: invite.StatusRevoked}, "Invitation required", server.DefaultNotInvitedMessage},
		{"valid until later", invite.Invitation{Status: invite.StatusPending, Expires: now.Add(time.Second)}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			tc.inv.Key = invite.Key{Subject: "stranger@nowhere.example", App: invite.AnyApp}
			if err := f.store.Put(context.Background(), tc.inv); err != nil {
				t.Fatal(err)
			}
			rec := f.post("/api/attributeStart", readFixture(t, "start-not-invited.json"))
			var resp struct {
				Data struct {
					Actions []struct {
						Type    string `json:"@odata.type"`
						Title   string `json:"title"`
						Message string `json:"message"`
					} `json:"actions"`
				} `json:"data"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil || len(resp.Data.Actions) != 1 {
				t.Fatalf("bad response %s", rec.Body)
			}
			a := resp.Data.Actions[0]
			if tc.expect == "" {
				if !strings.HasSuffix(a.Type, "continueWithDefaultBehavior") {
					t.Fatalf("want continue, got %+v", a)
				}
				return
			}
			if !strings.HasSuffix(a.Type, "showBlockPage") || a.Title != tc.title || a.Message != tc.expect {
				t.Fatalf("got %+v, want block %q / %q", a, tc.title, tc.expect)
			}
		})
	}
}

func TestConfiguredMessages(t *testing.T) {
	store := invitetest.NewMemory()
	srv := server.New(server.Deps{
		Store: store, Auth: server.AuthenticatorFunc(func(*http.Request) error { return nil }), Log: zerolog.Nop(),
		Messages: server.Messages{NotInvited: "Members only. Email membership@example.org."},
	})
	req := httptest.NewRequest(http.MethodPost, "/api/attributeStart", bytes.NewReader(readFixture(t, "start-not-invited.json")))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	if !strings.Contains(rec.Body.String(), "Members only. Email membership@example.org.") {
		t.Fatalf("configured message not shown: %s", rec.Body)
	}
}

func TestStoreFailureFailsClosed(t *testing.T) {
	for _, ev := range []struct{ route, fixture string }{
		{"attributeStart", "start-email-otp.json"},
		{"attributeSubmit", "submit-no-identities.json"},
	} {
		f := newFixture(t, nil)
		f.store.Err = fmt.Errorf("%w: connection refused", invite.ErrUnavailable)
		rec := f.post("/api/"+ev.route, readFixture(t, ev.fixture))
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "showBlockPage") ||
			!strings.Contains(rec.Body.String(), server.DefaultUnavailableMessage) {
			t.Fatalf("%s with the store down: %d %s", ev.route, rec.Code, rec.Body)
		}
		if !strings.Contains(f.logs.String(), `"level":"error"`) || !strings.Contains(f.logs.String(), "connection refused") {
			t.Errorf("no error log saying what failed:\n%s", f.logs)
		}
	}
}

// slowStore answers Match only after ctx is done, like a store that hangs.
type slowStore struct{ *invitetest.Memory }

func (s slowStore) Match(ctx context.Context, email, app string) (invite.Match, error) {
	<-ctx.Done()
	return invite.Match{}, fmt.Errorf("%w: %v", invite.ErrUnavailable, ctx.Err())
}

func TestSlowStoreAnswersWithinTimeout(t *testing.T) {
	const timeout = 150 * time.Millisecond
	srv := server.New(server.Deps{
		Store: slowStore{invitetest.NewMemory()}, Auth: server.AuthenticatorFunc(func(*http.Request) error { return nil }),
		Log: zerolog.Nop(), StoreTimeout: timeout,
	})
	req := httptest.NewRequest(http.MethodPost, "/api/attributeStart", bytes.NewReader(readFixture(t, "start-email-otp.json")))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	if !strings.Contains(rec.Body.String(), server.DefaultUnavailableMessage) {
		t.Fatalf("a hanging store gave %s", rec.Body)
	}
}

// failingRedeem admits but cannot record.
type failingRedeem struct{ *invitetest.Memory }

func (s failingRedeem) Redeem(context.Context, invite.Invitation, string, string, time.Time) (bool, error) {
	return false, fmt.Errorf("%w: write failed", invite.ErrUnavailable)
}

func TestRedemptionFailureDoesNotBlock(t *testing.T) {
	mem := invitetest.NewMemory()
	seed(t, mem)
	logs := &bytes.Buffer{}
	srv := server.New(server.Deps{Store: failingRedeem{mem}, Auth: server.AuthenticatorFunc(func(*http.Request) error { return nil }), Log: zerolog.New(logs)})
	start := httptest.NewRequest(http.MethodPost, "/api/attributeStart", bytes.NewReader(readFixture(t, "start-email-otp.json")))
	start.Header.Set("Content-Type", "application/json")
	srv.ServeHTTP(httptest.NewRecorder(), start)
	req := httptest.NewRequest(http.MethodPost, "/api/attributeSubmit", bytes.NewReader(readFixture(t, "submit-no-identities.json")))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	if !strings.Contains(rec.Body.String(), "modifyAttributeValues") {
		t.Fatalf("a failed redemption write blocked an invited sign-up: %s", rec.Body)
	}
	if !strings.Contains(logs.String(), "redemption not recorded") {
		t.Errorf("the failed write was not logged:\n%s", logs)
	}
}

type authErr struct{ status int }

func (e authErr) Error() string           { return "token audience mismatch" }
func (e authErr) HTTPStatus() int         { return e.status }
func (e authErr) WWWAuthenticate() string { return `Bearer error="invalid_token"` }
func (e authErr) PublicReason() string    { return "the token is not for this extension" } // must not be sent

func TestBadRequests(t *testing.T) {
	start := readFixture(t, "start-email-otp.json")
	submit := readFixture(t, "submit-no-identities.json")
	for _, tc := range []struct {
		name        string
		method      string
		path        string
		contentType string
		body        []byte
		auth        error
		status      int
	}{
		{"GET on an event route", http.MethodGet, "/api/attributeStart", "application/json", nil, nil, 405},
		{"unknown path", http.MethodPost, "/api/attributeFinish", "application/json", start, nil, 404},
		{"not JSON", http.MethodPost, "/api/attributeStart", "application/json", []byte("email=jo@example.org"), nil, 400},
		{"JSON array", http.MethodPost, "/api/attributeStart", "application/json", []byte(`[{"data":{}}]`), nil, 400},
		{"missing data", http.MethodPost, "/api/attributeStart", "application/json", []byte(`{"type":"microsoft.graph.authenticationEvent.attributeCollectionStart"}`), nil, 400},
		{"empty body", http.MethodPost, "/api/attributeStart", "application/json", nil, nil, 400},
		{"submit body on start route", http.MethodPost, "/api/attributeStart", "application/json", submit, nil, 400},
		{"start body on submit route", http.MethodPost, "/api/attributeSubmit", "application/json", start, nil, 400},
		{"over 64 KiB", http.MethodPost, "/api/attributeStart", "application/json", append(append([]byte(`{"data":{"x":"`), bytes.Repeat([]byte("a"), 70<<10)...), `"}}`...), nil, 413},
		{"wrong content type", http.MethodPost, "/api/attributeStart", "text/plain", start, nil, 415},
		{"duplicate key", http.MethodPost, "/api/attributeStart", "application/json", []byte(`{"data":{"@odata.type":"microsoft.graph.onAttributeCollectionStartCalloutData"},"data":{}}`), nil, 400},
		{"unauthenticated", http.MethodPost, "/api/attributeStart", "application/json", start, authErr{401}, 401},
		{"keys not loaded", http.MethodPost, "/api/attributeStart", "application/json", start, authErr{503}, 503},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, server.AuthenticatorFunc(func(*http.Request) error { return tc.auth }))
			calls := f.store.Calls()
			req := httptest.NewRequest(tc.method, tc.path, bytes.NewReader(tc.body))
			req.Header.Set("Content-Type", tc.contentType)
			rec := httptest.NewRecorder()
			f.srv.ServeHTTP(rec, req)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d; body %s", rec.Code, tc.status, rec.Body)
			}
			var body struct{ Error, Message string }
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error == "" || body.Message == "" {
				t.Fatalf("want a JSON error body, got %q", rec.Body)
			}
			if rec.Header().Get("Content-Type") != "application/json" {
				t.Errorf("content-type %q", rec.Header().Get("Content-Type"))
			}
			if strings.Contains(rec.Body.String(), "continueWithDefaultBehavior") {
				t.Fatal("a bad request answered continue")
			}
			if f.store.Calls() != calls {
				t.Errorf("the store was called for a rejected request")
			}
			if tc.auth != nil && !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("no Bearer challenge: %q", rec.Header().Get("WWW-Authenticate"))
			}
			// Every refused token gets the same words: not the error's own
			// reason, which could tell a caller which of its guesses was wrong.
			if tc.status == 401 && body.Message != "the request is not authenticated" {
				t.Errorf("401 body %q, want the generic reason", body.Message)
			}
			if tc.status == 503 && rec.Header().Get("Retry-After") == "" {
				t.Error("503 without Retry-After")
			}
		})
	}
}

func TestReadiness(t *testing.T) {
	f := newFixture(t, server.AuthenticatorFunc(func(*http.Request) error { return errors.New("never asked") }))
	calls := f.store.Calls()
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET / = %d", rec.Code)
	}
	if f.store.Calls() != calls {
		t.Errorf("readiness touched the store")
	}
}

// The body is not read before authentication succeeds.
func TestAuthenticationBeforeBody(t *testing.T) {
	f := newFixture(t, server.AuthenticatorFunc(func(*http.Request) error { return authErr{401} }))
	body := &countingReader{r: bytes.NewReader(readFixture(t, "start-email-otp.json"))}
	req := httptest.NewRequest(http.MethodPost, "/api/attributeStart", body)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, req)
	if rec.Code != 401 || body.n != 0 {
		t.Fatalf("status %d after reading %d body bytes; want 401 after none", rec.Code, body.n)
	}
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// gatedStore holds every Match until release is closed.
type gatedStore struct {
	*invitetest.Memory
	entered chan struct{}
	release chan struct{}
}

func (s gatedStore) Match(ctx context.Context, email, app string) (invite.Match, error) {
	s.entered <- struct{}{}
	<-s.release
	return s.Memory.Match(ctx, email, app)
}

func TestOverloadShedsFast(t *testing.T) {
	mem := invitetest.NewMemory()
	seed(t, mem)
	store := gatedStore{Memory: mem, entered: make(chan struct{}, 8), release: make(chan struct{})}
	logs := &bytes.Buffer{}
	srv := server.New(server.Deps{Store: store, Auth: server.AuthenticatorFunc(func(*http.Request) error { return nil }),
		Log: zerolog.New(zerolog.SyncWriter(logs)), MaxInFlight: 2, StoreTimeout: 5 * time.Second})
	send := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/api/attributeStart", bytes.NewReader(readFixture(t, "start-email-otp.json")))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		return rec
	}
	held := make(chan *httptest.ResponseRecorder, 2)
	for i := 0; i < 2; i++ {
		go func() { held <- send() }()
		<-store.entered // both slots are taken by requests waiting on the store
	}
	rec := send()
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), server.DefaultUnavailableMessage) {
		t.Fatalf("a request past the limit got %d %s; want the unavailable block page", rec.Code, rec.Body)
	}
	if !strings.Contains(logs.String(), `"turned_away":1`) {
		t.Errorf("shedding was not logged:\n%s", logs)
	}
	close(store.release)
	for i := 0; i < 2; i++ {
		if r := <-held; !strings.Contains(r.Body.String(), "setPrefillValues") {
			t.Fatalf("a held request got %s", r.Body)
		}
	}
	// The slots are free again.
	go func() { <-store.entered }()
	if r := send(); !strings.Contains(r.Body.String(), "setPrefillValues") {
		t.Fatalf("after the load: %s", r.Body)
	}
}
