package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/invitegate/invitegate/internal/bench"
	"github.com/invitegate/invitegate/internal/invite"
	"github.com/invitegate/invitegate/internal/server"
	"github.com/invitegate/invitegate/internal/tablestore"
	"github.com/invitegate/invitegate/internal/testutil/handlerproc"
	"github.com/invitegate/invitegate/internal/testutil/wait"
)

// The invitation set every test table starts with.
const (
	invited       = "jo.bloggs@example.org" // by address, any app, with prefill and set values
	invitedDomain = "@partner.example"      // a whole domain, any app
	stranger      = "mallory@elsewhere.example"
)

var tableSeq atomic.Int64

// newTable creates a fresh table in the Azurite at conn, seeds it, and
// returns a store on it (with retries, for the test's own calls).
func newTable(t *testing.T, conn string) *tablestore.Store {
	t.Helper()
	name := fmt.Sprintf("e2e%d%d", time.Now().UnixNano()%1e9, tableSeq.Add(1))
	s, err := tablestore.Open(tablestore.Settings{Connection: conn, Table: name}, tablestore.Options{Retries: 3})
	if err != nil {
		t.Fatal(err)
	}
	seed(t, s)
	return s
}

// seed creates the table (when missing) and the invitation set.
func seed(t *testing.T, s *tablestore.Store) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Init(ctx); err != nil {
		t.Fatal(err)
	}
	for _, inv := range []invite.Invitation{
		{
			Key: invite.Key{Subject: invited, App: invite.AnyApp}, Status: invite.StatusPending,
			Prefill: map[string]string{"givenName": "Jo", "surname": "Bloggs"},
			Set:     map[string]string{"companyName": "Example Ltd"},
		},
		{Key: invite.Key{Subject: invitedDomain, App: invite.AnyApp}, Status: invite.StatusPending},
	} {
		if err := s.Put(ctx, inv); err != nil {
			t.Fatal(err)
		}
	}
}

// gate is the handler process under test.
type gate struct {
	*handlerproc.Process
	client *http.Client
	token  string // sent as the bearer token when not ""
}

// startGate starts the handler on the table of store and stops it when the
// test ends, failing the test if the race detector spoke. Unless env sets
// ENTRA_AUTH, the gate checks bearer tokens (ENTRA_AUTH=jwt) against a
// local tenant of its own, whose keys have loaded when startGate returns,
// and the gate's requests carry a valid token.
func startGate(t *testing.T, store *tablestore.Store, env ...string) *gate {
	t.Helper()
	settings := store.Settings()
	base := []string{
		"INVITATIONS_CONNECTION=" + settings.Connection,
		"INVITATIONS_TABLE=" + settings.Table,
		"INVITE_LOG_LEVEL=info",
	}
	var tenant *bench.Tenant
	if !slices.ContainsFunc(env, func(kv string) bool { return strings.HasPrefix(kv, "ENTRA_AUTH=") }) {
		var err error
		if tenant, err = bench.StartTenant(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { tenant.Close() })
		base = append(base, tenant.Env()...)
	}
	h, err := handlerproc.Start(handlerBin, handlerproc.Options{Env: append(base, env...), KeepLogs: 8 << 20})
	if err != nil {
		t.Fatal(err)
	}
	g := &gate{Process: h, client: client()}
	t.Cleanup(func() {
		// net/http's graceful shutdown waits up to 5s for connections that
		// were opened but never carried a request; the client dials spares.
		g.client.CloseIdleConnections()
		if !h.Exited() {
			h.Stop()
		}
		if strings.Contains(h.Stderr(), "DATA RACE") {
			t.Errorf("the race detector found a race in the handler:\n%s", h.Stderr())
		}
		if t.Failed() {
			t.Logf("handler stderr:\n%s\nhandler errors and warnings (first 20):\n%s", h.Stderr(), problems(h.Stderr(), 20))
		}
	})
	if _, err := h.WaitReady(20 * time.Second); err != nil {
		t.Fatal(err)
	}
	if tenant != nil {
		if g.token, err = tenant.Token(0, time.Hour); err != nil {
			t.Fatal(err)
		}
		wait.Until(t, 10*time.Second, "the signing keys to load", func() string {
			if a := g.signUp(false, stranger); a.status == http.StatusServiceUnavailable || a.err != nil {
				return a.outcome()
			}
			return ""
		})
	}
	return g
}

// problems returns the first n log lines at warn level or above.
func problems(logs string, n int) string {
	var out []string
	for _, line := range strings.Split(logs, "\n") {
		if len(out) < n && (strings.Contains(line, `"level":"error"`) || strings.Contains(line, `"level":"warn"`)) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// client allows as many connections as the tests run requests at once.
func client() *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 512, DisableCompression: true}}
}

// answer is what the gate said.
type answer struct {
	status  int
	header  http.Header
	raw     []byte
	elapsed time.Duration
	err     error
	// For a 200, the single action.
	action, title, message string
	actions                int
	dataType               string
}

// Outcomes, for tests to compare with.
const (
	continued   = "continue"     // continueWithDefaultBehavior, setPrefillValues or modifyAttributeValues
	notInvited  = "not-invited"  // the block page for people without an invitation
	noEmail     = "no-email"     // the block page when no address could be read
	notApproved = "not-approved" // the block page for a submit whose address start did not approve
	unavailable = "unavailable"  // the block page when the store could not answer
)

// outcome names the answer: one of the constants above, "block: <title>",
// "HTTP <status>", or the error.
func (a answer) outcome() string {
	switch {
	case a.err != nil:
		return "error: " + a.err.Error()
	case a.status != http.StatusOK:
		return fmt.Sprintf("HTTP %d", a.status)
	case a.actions != 1:
		return fmt.Sprintf("%d actions", a.actions)
	}
	switch a.action {
	case "continueWithDefaultBehavior", "setPrefillValues", "modifyAttributeValues":
		return continued
	case "showBlockPage":
		switch a.message {
		case server.DefaultNotInvitedMessage:
			return notInvited
		case server.DefaultNoEmailMessage:
			return noEmail
		case server.DefaultNotApprovedMessage:
			return notApproved
		case server.DefaultUnavailableMessage:
			return unavailable
		}
		return "block: " + a.title
	}
	return "action " + a.action
}

// post sends body to path with the given content type: JSON when "", and
// no Content-Type header when "none".
func (g *gate) post(path string, body []byte, contentType string) answer {
	if contentType == "" {
		contentType = "application/json"
	}
	req, err := http.NewRequest(http.MethodPost, g.URL+path, bytes.NewReader(body))
	if err != nil {
		return answer{err: err}
	}
	if contentType != "none" {
		req.Header.Set("Content-Type", contentType)
	}
	if g.token != "" {
		req.Header.Set("Authorization", "Bearer "+g.token)
	}
	started := time.Now()
	resp, err := g.client.Do(req)
	if err != nil {
		return answer{err: err, elapsed: time.Since(started)}
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, err = buf.ReadFrom(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, raw: buf.Bytes(), elapsed: time.Since(started), err: err}
	if a.status == http.StatusOK && err == nil {
		var r struct {
			Data struct {
				Type    string `json:"@odata.type"`
				Actions []struct {
					Type    string `json:"@odata.type"`
					Title   string `json:"title"`
					Message string `json:"message"`
				} `json:"actions"`
			} `json:"data"`
		}
		if err := json.Unmarshal(a.raw, &r); err != nil {
			a.err = fmt.Errorf("a 200 that is not a Graph response: %v: %s", err, a.raw)
			return a
		}
		a.dataType, a.actions = r.Data.Type, len(r.Data.Actions)
		if a.actions == 1 {
			act := r.Data.Actions[0]
			a.action, a.title, a.message = act.Type[strings.LastIndexByte(act.Type, '.')+1:], act.Title, act.Message
		}
	}
	return a
}

var corrSeq atomic.Int64

// correlationID returns a fresh, GUID-shaped correlation id.
func correlationID() string {
	return fmt.Sprintf("e2e00000-0000-4000-8000-%012d", corrSeq.Add(1))
}

// signUp posts an email sign-up by email on the start or submit event.
func (g *gate) signUp(submit bool, email string) answer {
	return g.signUpAs(submit, email, correlationID())
}

func (g *gate) signUpAs(submit bool, email, correlationID string) answer {
	path := bench.StartPath
	if submit {
		path = bench.SubmitPath
	}
	return g.post(path, bench.SignUpBody(submit, email, correlationID), "")
}

// want is the outcome each kind of person must get when the store works.
var want = map[string]string{invited: continued, "amy" + invitedDomain: continued, stranger: notInvited}

// checkDecisions asks for each person of want, on both events, and
// returns the first wrong answer, or "".
func (g *gate) checkDecisions() string {
	for _, submit := range []bool{false, true} {
		for email, w := range want {
			if a := g.signUp(submit, email); a.outcome() != w {
				return fmt.Sprintf("%s (submit %v): %s, want %s", email, submit, a.outcome(), w)
			}
		}
	}
	return ""
}
