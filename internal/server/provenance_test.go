package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/invitegate/invitegate/internal/invite"
	"github.com/invitegate/invitegate/internal/invite/invitetest"
	"github.com/invitegate/invitegate/internal/server"
	"github.com/invitegate/invitegate/internal/testutil/logbuf"
)

// action decodes a 200 answer's single action.
type action struct {
	Type       string         `json:"@odata.type"`
	Title      string         `json:"title"`
	Message    string         `json:"message"`
	Inputs     map[string]any `json:"inputs"`
	Attributes map[string]any `json:"attributes"`
}

func actionOf(t *testing.T, rec *httptest.ResponseRecorder) action {
	t.Helper()
	var resp struct {
		Data struct {
			Actions []action `json:"actions"`
		} `json:"data"`
	}
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil || len(resp.Data.Actions) != 1 {
		t.Fatalf("want one action, got %s", rec.Body)
	}
	return resp.Data.Actions[0]
}

func kind(a action) string { return a.Type[strings.LastIndexByte(a.Type, '.')+1:] }

// rewrite returns a fixture with its JSON changed by edit.
func rewrite(t *testing.T, name string, edit func(data map[string]any)) []byte {
	t.Helper()
	var body map[string]any
	if err := json.Unmarshal(readFixture(t, name), &body); err != nil {
		t.Fatal(err)
	}
	edit(body["data"].(map[string]any))
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func signUpInfo(data map[string]any) map[string]any { return data["userSignUpInfo"].(map[string]any) }

func setEmailAttr(data map[string]any, key, value string) {
	attrs := signUpInfo(data)["attributes"].(map[string]any)
	for k := range attrs {
		if strings.EqualFold(k, "email") || strings.EqualFold(k, "emailaddress") {
			delete(attrs, k)
		}
	}
	attrs[key] = map[string]any{"@odata.type": "microsoft.graph.stringDirectoryAttributeValue", "value": value, "attributeType": "builtIn"}
}

func setIdentities(data map[string]any, ids ...map[string]any) {
	if ids == nil {
		delete(signUpInfo(data), "identities")
		return
	}
	list := make([]any, len(ids))
	for i, id := range ids {
		list[i] = id
	}
	signUpInfo(data)["identities"] = list
}

// TestProvenanceAttacks: the bypasses the review reproduced, and the
// takeovers they imply, are all blocked, and nothing is written for them.
func TestProvenanceAttacks(t *testing.T) {
	for _, tc := range []struct {
		name    string
		route   string
		body    func(t *testing.T) []byte
		first   string // a start fixture sent first, in the same store
		reason  string // the decision log's reason
		message string
	}{
		{"attacker-run OIDC provider asserting an invited address", "attributeStart",
			func(t *testing.T) []byte { return readFixture(t, "start-untrusted-provider.json") }, "", "issuer_not_trusted", server.DefaultNoEmailMessage},
		{"userName identity with an invited address typed in", "attributeStart",
			func(t *testing.T) []byte { return readFixture(t, "start-username.json") }, "", "sign_in_type_unverified:userName", server.DefaultNoEmailMessage},
		{"phoneNumber identity with an invited address typed in", "attributeStart",
			func(t *testing.T) []byte {
				return rewrite(t, "start-username.json", func(d map[string]any) {
					setIdentities(d, map[string]any{"signInType": "phoneNumber", "issuer": "x.onmicrosoft.com", "issuerAssignedId": "+15550100"})
				})
			}, "", "sign_in_type_unverified:phoneNumber", server.DefaultNoEmailMessage},
		{"unknown signInType", "attributeSubmit",
			func(t *testing.T) []byte {
				return rewrite(t, "submit-no-identities.json", func(d map[string]any) {
					setIdentities(d, map[string]any{"signInType": "magicLink", "issuer": "x", "issuerAssignedId": "jo.bloggs@example.org"})
				})
			}, "start-email-otp.json", "sign_in_type_unverified:magicLink", server.DefaultNoEmailMessage},
		{"start without identities", "attributeStart",
			func(t *testing.T) []byte {
				return rewrite(t, "start-email-otp.json", func(d map[string]any) { setIdentities(d) })
			}, "", "no_identity_at_start", server.DefaultNoEmailMessage},
		{"submit without identities, invited address typed in, no start", "attributeSubmit",
			func(t *testing.T) []byte { return readFixture(t, "submit-no-identities.json") }, "", "not_approved_at_start", server.DefaultNotApprovedMessage},
		{"Google user types another invitee's address, identity present", "attributeSubmit",
			func(t *testing.T) []byte {
				return rewrite(t, "submit-google.json", func(d map[string]any) { setEmailAttr(d, "email", "jo.bloggs@example.org") })
			}, "start-google.json", "not_approved_at_start", server.DefaultNotApprovedMessage},
		{"Google user types another invitee's address, no identities", "attributeSubmit",
			func(t *testing.T) []byte {
				return rewrite(t, "submit-google.json", func(d map[string]any) {
					setIdentities(d)
					setEmailAttr(d, "email", "jo.bloggs@example.org")
				})
			}, "start-google.json", "not_approved_at_start", server.DefaultNotApprovedMessage},
		{"another Google account submits an address approved for someone else", "attributeSubmit",
			func(t *testing.T) []byte {
				return rewrite(t, "submit-google.json", func(d map[string]any) {
					setIdentities(d, map[string]any{"signInType": "federated", "issuer": "google.com", "issuerAssignedId": "999"})
				})
			}, "start-google.json", "not_approved_at_start", server.DefaultNotApprovedMessage},
		{"approved at start by an untrusted provider's claim is impossible", "attributeSubmit",
			func(t *testing.T) []byte { return readFixture(t, "submit-no-identities.json") }, "start-untrusted-provider.json", "not_approved_at_start", server.DefaultNotApprovedMessage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			if tc.first != "" {
				f.post("/api/attributeStart", readFixture(t, tc.first))
			}
			f.logs.Reset()
			a := actionOf(t, f.post("/api/"+tc.route, tc.body(t)))
			if kind(a) != "showBlockPage" || a.Message != tc.message {
				t.Fatalf("got %+v, want the block page %q", a, tc.message)
			}
			if a.Attributes != nil || a.Inputs != nil {
				t.Fatalf("a blocked answer carries values: %+v", a)
			}
			if !strings.Contains(f.logs.String(), `"reason":"`+tc.reason+`"`) {
				t.Errorf("log does not say why (%s):\n%s", tc.reason, f.logs)
			}
			inv, err := f.store.Get(context.Background(), invite.Key{Subject: "jo.bloggs@example.org", App: invite.AnyApp})
			if err != nil || inv.Count != 0 {
				t.Errorf("the invitation was redeemed by an attack: %+v, %v", inv.Redemptions, err)
			}
		})
	}
}

// TestLegitimateSignUpsStillWork: the sign-ups the rule must keep, each
// through its start and its submit, with Entra's retries of both.
func TestLegitimateSignUpsStillWork(t *testing.T) {
	f := newFixture(t, nil)
	for _, step := range []struct{ route, body, want string }{
		{"attributeStart", "start-email-otp.json", "setPrefillValues"},
		{"attributeStart", "start-email-otp.json", "setPrefillValues"}, // retry
		{"attributeSubmit", "submit-no-identities.json", "modifyAttributeValues"},
		{"attributeSubmit", "submit-no-identities.json", "modifyAttributeValues"}, // retry
		{"attributeStart", "start-google.json", "continueWithDefaultBehavior"},
		{"attributeSubmit", "submit-google.json", "continueWithDefaultBehavior"},
		{"attributeStart", "start-email-password.json", "continueWithDefaultBehavior"},
		{"attributeSubmit", "submit-email-password.json", "continueWithDefaultBehavior"},
	} {
		if got := kind(actionOf(t, f.post("/api/"+step.route, readFixture(t, step.body)))); got != step.want {
			t.Fatalf("%s %s: %s, want %s\n%s", step.route, step.body, got, step.want, f.logs)
		}
	}
	inv, err := f.store.Get(context.Background(), invite.Key{Subject: "jo.bloggs@example.org", App: invite.AnyApp})
	if err != nil || inv.Count != 1 {
		t.Errorf("after a submit and its retry: %+v, %v; want 1 redemption", inv.Redemptions, err)
	}
	// Google's submit without identities, as Microsoft's captures show it.
	f2 := newFixture(t, nil)
	f2.post("/api/attributeStart", readFixture(t, "start-google.json"))
	body := rewrite(t, "submit-google.json", func(d map[string]any) { setIdentities(d) })
	if got := kind(actionOf(t, f2.post("/api/attributeSubmit", body))); got != "continueWithDefaultBehavior" {
		t.Fatalf("Google submit without identities: %s\n%s", got, f2.logs)
	}
}

// TestSignupWindow: an approval admits the submit within the window only.
func TestSignupWindow(t *testing.T) {
	store := invitetest.NewMemory()
	seed(t, store)
	var clock atomic.Pointer[time.Time]
	t0 := now
	clock.Store(&t0)
	srv := server.New(server.Deps{Store: store, Auth: server.AuthenticatorFunc(func(*http.Request) error { return nil }),
		Log: zerolog.Nop(), Now: func() time.Time { return *clock.Load() }, SignupWindow: 10 * time.Minute})
	post := func(route, fixture string, at time.Time) string {
		clock.Store(&at)
		req := httptest.NewRequest(http.MethodPost, "/api/"+route, bytes.NewReader(readFixture(t, fixture)))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		return kind(actionOf(t, rec))
	}
	post("attributeStart", "start-email-otp.json", t0)
	if got := post("attributeSubmit", "submit-no-identities.json", t0.Add(9*time.Minute)); got != "modifyAttributeValues" {
		t.Errorf("submit within the window: %s", got)
	}
	if got := post("attributeSubmit", "submit-no-identities.json", t0.Add(10*time.Minute)); got != "showBlockPage" {
		t.Errorf("submit after the window: %s", got)
	}
	// A new start opens a new window.
	post("attributeStart", "start-email-otp.json", t0.Add(20*time.Minute))
	if got := post("attributeSubmit", "submit-no-identities.json", t0.Add(21*time.Minute)); got != "modifyAttributeValues" {
		t.Errorf("submit after a new start: %s", got)
	}
}

// TestVerifiedAddressWinsAtSubmit: a local account's submit whose email
// attribute says something else gets the attribute set back to the
// verified address; the invitation is the verified address's.
func TestVerifiedAddressWinsAtSubmit(t *testing.T) {
	f := newFixture(t, nil)
	body := rewrite(t, "submit-email-password.json", func(d map[string]any) { setEmailAttr(d, "email", "boss@example.org") })
	a := actionOf(t, f.post("/api/attributeSubmit", body))
	if kind(a) != "modifyAttributeValues" || a.Attributes["email"] != "sam@partner.example" {
		t.Fatalf("got %+v, want the email attribute overwritten with sam@partner.example", a)
	}
	if !strings.Contains(f.logs.String(), `"email_overwritten":true`) {
		t.Errorf("the overwrite is not logged:\n%s", f.logs)
	}
	// The same address in another case is left alone.
	body = rewrite(t, "submit-email-password.json", func(d map[string]any) { setEmailAttr(d, "email", "Sam@Partner.Example") })
	if a := actionOf(t, f.post("/api/attributeSubmit", body)); kind(a) != "continueWithDefaultBehavior" {
		t.Fatalf("same address, other case: %+v", a)
	}
}

// TestUnusableSetValueFailsClosed: a Set value that cannot be applied
// blocks with the unavailable message, logs which attribute, and records
// no redemption.
func TestUnusableSetValueFailsClosed(t *testing.T) {
	f := newFixture(t, nil)
	key := invite.Key{Subject: "jo.bloggs@example.org", App: invite.AnyApp}
	inv, _ := f.store.Get(context.Background(), key)
	inv.Set = map[string]string{ext + "MemberYear": "nineteen ninety-nine"}
	if err := f.store.Put(context.Background(), inv); err != nil {
		t.Fatal(err)
	}
	f.post("/api/attributeStart", readFixture(t, "start-email-otp.json"))
	a := actionOf(t, f.post("/api/attributeSubmit", readFixture(t, "submit-no-identities.json")))
	if kind(a) != "showBlockPage" || a.Message != server.DefaultUnavailableMessage {
		t.Fatalf("got %+v, want the unavailable block page", a)
	}
	if !strings.Contains(f.logs.String(), `"level":"error"`) || !strings.Contains(f.logs.String(), ext+"MemberYear") {
		t.Errorf("no error naming the attribute:\n%s", f.logs)
	}
	if got, _ := f.store.Get(context.Background(), key); got.Count != 0 {
		t.Errorf("a redemption was recorded for a sign-up that was blocked: %+v", got.Redemptions)
	}
}

// blockingApprove holds Approve until release is closed, and counts.
type blockingApprove struct {
	*invitetest.Memory
	release chan struct{}
	fail    error
	done    atomic.Int64
}

func (s *blockingApprove) Approve(ctx context.Context, a invite.Approval) error {
	select {
	case <-s.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer s.done.Add(1)
	if s.fail != nil {
		return s.fail
	}
	return s.Memory.Approve(ctx, a)
}

// TestApprovalRecordedAfterTheAnswer: the start's answer reaches the
// client whole while the approval is still being written.
func TestApprovalRecordedAfterTheAnswer(t *testing.T) {
	mem := invitetest.NewMemory()
	seed(t, mem)
	store := &blockingApprove{Memory: mem, release: make(chan struct{})}
	srv := httptest.NewServer(server.New(server.Deps{Store: store, Auth: server.AuthenticatorFunc(func(*http.Request) error { return nil }),
		Log: zerolog.Nop(), StoreTimeout: 10 * time.Second}))
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/api/attributeStart", "application/json", bytes.NewReader(readFixture(t, "start-email-otp.json")))
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body) // returns only once the whole answer is in
	resp.Body.Close()
	if err != nil || !strings.Contains(string(body), "setPrefillValues") {
		t.Fatalf("answer %q, %v", body, err)
	}
	if n := store.done.Load(); n != 0 {
		t.Fatalf("the approval was written before the answer arrived (%d writes)", n)
	}
	close(store.release)
	deadline := time.Now().Add(10 * time.Second)
	for store.done.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	m, err := mem.Match(context.Background(), "jo.bloggs@example.org", "")
	if err != nil || len(m.Approvals) != 1 {
		t.Fatalf("approval not recorded after the answer: %+v, %v", m.Approvals, err)
	}
}

// TestFailedApprovalIsLoggedAndSubmitBlocked: a start whose approval
// cannot be written still answers; its submit is blocked, never admitted.
func TestFailedApprovalIsLoggedAndSubmitBlocked(t *testing.T) {
	mem := invitetest.NewMemory()
	seed(t, mem)
	release := make(chan struct{})
	close(release)
	store := &blockingApprove{Memory: mem, release: release, fail: fmt.Errorf("%w: write refused", invite.ErrUnavailable)}
	logs := &bytes.Buffer{}
	h := server.New(server.Deps{Store: store, Auth: server.AuthenticatorFunc(func(*http.Request) error { return nil }), Log: zerolog.New(zerolog.SyncWriter(logs))})
	post := func(route, fixture string) action {
		req := httptest.NewRequest(http.MethodPost, "/api/"+route, bytes.NewReader(readFixture(t, fixture)))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return actionOf(t, rec)
	}
	if a := post("attributeStart", "start-email-otp.json"); kind(a) != "setPrefillValues" {
		t.Fatalf("start: %+v", a)
	}
	if !strings.Contains(logs.String(), "approval not recorded") || !strings.Contains(logs.String(), "write refused") {
		t.Errorf("the failed write is not logged:\n%s", logs)
	}
	if a := post("attributeSubmit", "submit-no-identities.json"); kind(a) != "showBlockPage" || a.Message != server.DefaultNotApprovedMessage {
		t.Fatalf("submit after a failed approval: %+v", a)
	}
}

type checkErr string

func (e checkErr) Error() string           { return "token check failed: " + string(e) }
func (e checkErr) Check() string           { return string(e) }
func (e checkErr) HTTPStatus() int         { return http.StatusUnauthorized }
func (e checkErr) WWWAuthenticate() string { return `Bearer error="invalid_token"` }

// TestUnauthenticatedLogs: rejected requests are logged at most once a
// second per failed check, with a count; nothing the caller sent (the
// invocation id header included) reaches the log.
func TestUnauthenticatedLogs(t *testing.T) {
	logs := &logbuf.Buffer{}
	var fail atomic.Value
	fail.Store(checkErr("audience"))
	h := server.New(server.Deps{Store: invitetest.NewMemory(), Log: zerolog.New(logs),
		Auth: server.AuthenticatorFunc(func(*http.Request) error { return fail.Load().(error) })})
	huge := strings.Repeat("A", 60000)
	send := func() {
		req := httptest.NewRequest(http.MethodPost, "/api/attributeStart", bytes.NewReader(readFixture(t, "start-email-otp.json")))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Azure-Functions-InvocationId", huge)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnauthorized {
			t.Fatalf("status %d", rec.Code)
		}
	}
	for i := 0; i < 50; i++ {
		send()
	}
	fail.Store(checkErr("signature"))
	send()
	if got := strings.Count(logs.String(), "\n"); got != 2 {
		t.Fatalf("%d lines for 51 rejections in well under a second, want 2 (one per check):\n%s", got, logs)
	}
	// The counted rest arrives when the second ends.
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), `"count":49`) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	out := logs.String()
	for _, want := range []string{`"check":"audience","count":1`, `"check":"signature","count":1`, `"check":"audience","count":49`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, "AAAAAAAA") || len(out) > 2000 {
		t.Errorf("a request header reached the log of an unauthenticated request (%d bytes)", len(out))
	}
}

// TestInvocationIDCapped: after authentication, the host's invocation id
// is logged, capped at 64 characters.
func TestInvocationIDCapped(t *testing.T) {
	f := newFixture(t, nil)
	f.post("/api/attributeStart", readFixture(t, "start-email-otp.json"), "X-Azure-Functions-InvocationId", "inv-"+strings.Repeat("9", 5000))
	var line struct {
		InvocationID string `json:"invocation_id"`
	}
	if err := json.Unmarshal(f.logs.Bytes(), &line); err != nil {
		t.Fatalf("log %q: %v", f.logs, err)
	}
	if !strings.HasPrefix(line.InvocationID, "inv-999") || len(line.InvocationID) > 64+len("…") {
		t.Fatalf("invocation_id %q (%d bytes), want it capped at 64", line.InvocationID[:20], len(line.InvocationID))
	}
}

// TestOverloadOnlyAfterAuthentication: a caller without a valid token gets
// 401 even when every slot is taken; the overload page is for Entra only.
func TestOverloadOnlyAfterAuthentication(t *testing.T) {
	mem := invitetest.NewMemory()
	seed(t, mem)
	store := gatedStore{Memory: mem, entered: make(chan struct{}, 1), release: make(chan struct{})}
	var authOK atomic.Bool
	authOK.Store(true)
	h := server.New(server.Deps{Store: store, Log: zerolog.Nop(), MaxInFlight: 1, StoreTimeout: 5 * time.Second,
		Auth: server.AuthenticatorFunc(func(*http.Request) error {
			if authOK.Load() {
				return nil
			}
			return checkErr("signature")
		})})
	send := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/api/attributeStart", bytes.NewReader(readFixture(t, "start-email-otp.json")))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	done := make(chan struct{})
	go func() { send(); close(done) }()
	<-store.entered
	authOK.Store(false)
	if rec := send(); rec.Code != http.StatusUnauthorized {
		t.Fatalf("unauthenticated request while overloaded: %d %s; want 401", rec.Code, rec.Body)
	}
	authOK.Store(true)
	if rec := send(); !strings.Contains(rec.Body.String(), server.DefaultUnavailableMessage) {
		t.Fatalf("authenticated request while overloaded: %s", rec.Body)
	}
	close(store.release)
	<-done
}

// TestTrickledBodyBoundedByDeadline: a body that arrives a byte at a time
// cannot hold the request's slot past its budget.
func TestTrickledBodyBoundedByDeadline(t *testing.T) {
	mem := invitetest.NewMemory()
	seed(t, mem)
	srv := httptest.NewServer(server.New(server.Deps{Store: mem, Auth: server.AuthenticatorFunc(func(*http.Request) error { return nil }),
		Log: zerolog.Nop(), MaxInFlight: 1, StoreTimeout: 300 * time.Millisecond}))
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := readFixture(t, "start-email-otp.json")
	fmt.Fprintf(conn, "POST /api/attributeStart HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body[:10])
	// Send nothing more. The server must answer (408) on its own.
	conn.SetReadDeadline(time.Now().Add(8 * time.Second))
	answer, err := io.ReadAll(conn)
	if err != nil && !errors.Is(err, io.EOF) {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatal("the server was still waiting for the body 8 s later")
		}
	}
	if !strings.HasPrefix(string(answer), "HTTP/1.1 408") {
		t.Fatalf("answer %q, want 408", answer)
	}
	// The slot is free again.
	resp, err := http.Post(srv.URL+"/api/attributeStart", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), "setPrefillValues") {
		t.Fatalf("after the trickled body: %s", b)
	}
}

// countingApprove counts approval writes.
type countingApprove struct {
	*invitetest.Memory
	writes atomic.Int64
}

func (s *countingApprove) Approve(ctx context.Context, a invite.Approval) error {
	s.writes.Add(1)
	return s.Memory.Approve(ctx, a)
}

// TestRetriedStartWritesOnce: Entra's retry of a start (or a reload) within
// a third of the window costs no second write; a start after it writes
// again.
func TestRetriedStartWritesOnce(t *testing.T) {
	mem := invitetest.NewMemory()
	seed(t, mem)
	store := &countingApprove{Memory: mem}
	var clock atomic.Pointer[time.Time]
	t0 := now
	clock.Store(&t0)
	h := server.New(server.Deps{Store: store, Auth: server.AuthenticatorFunc(func(*http.Request) error { return nil }),
		Log: zerolog.Nop(), Now: func() time.Time { return *clock.Load() }, SignupWindow: 30 * time.Minute})
	start := func(at time.Time) {
		clock.Store(&at)
		req := httptest.NewRequest(http.MethodPost, "/api/attributeStart", bytes.NewReader(readFixture(t, "start-email-otp.json")))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if kind(actionOf(t, rec)) != "setPrefillValues" {
			t.Fatalf("start: %s", rec.Body)
		}
	}
	start(t0)
	start(t0.Add(2 * time.Second))
	if n := store.writes.Load(); n != 1 {
		t.Fatalf("%d approval writes for a start and its retry, want 1", n)
	}
	start(t0.Add(9 * time.Minute))
	if n := store.writes.Load(); n != 1 {
		t.Fatalf("%d approval writes for a second start 9 minutes later, want 1", n)
	}
	start(t0.Add(10 * time.Minute))
	if n := store.writes.Load(); n != 2 {
		t.Fatalf("%d approval writes after a third of the window, want 2", n)
	}
}
