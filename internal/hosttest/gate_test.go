package hosttest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/invitegate/invitegate/internal/bench"
	"github.com/invitegate/invitegate/internal/graph"
	"github.com/invitegate/invitegate/internal/invite"
	"github.com/invitegate/invitegate/internal/tablestore"
	"github.com/invitegate/invitegate/internal/testutil/fixtures"
	"github.com/invitegate/invitegate/internal/testutil/functionshost"
	"github.com/invitegate/invitegate/internal/testutil/wait"
)

// partnerDomain is invited for bench.AppID, the application of the
// fixtures and of bench.SignUpBody.
const partnerDomain = "@partner.example"

var tableSeq atomic.Int64

// newTable creates a table in the Azurite at conn holding the invitations
// the request fixtures expect (the set the server's golden files were made
// with) and extra, and returns a store on it.
func newTable(t *testing.T, conn string, extra ...invite.Invitation) *tablestore.Store {
	t.Helper()
	name := fmt.Sprintf("host%d%d", time.Now().UnixNano()%1e9, tableSeq.Add(1))
	s, err := tablestore.Open(tablestore.Settings{Connection: conn, Table: name}, tablestore.Options{Retries: 3})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Init(ctx); err != nil {
		t.Fatal(err)
	}
	for _, inv := range append(fixtures.Invitations(), extra...) {
		if err := s.Put(ctx, inv); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// gate is the packaged handler deployed to an emulated Functions host.
type gate struct {
	*functionshost.Host
	tenant *bench.Tenant
	token  string
	client *http.Client
}

// deploy deploys the package to a new host whose app settings point at
// store and trust a local tenant of the gate's own, and waits until the
// handler answers and has loaded the tenant's signing keys. env adds or
// overrides app settings.
func deploy(t *testing.T, store *tablestore.Store, o functionshost.Options, env ...string) *gate {
	t.Helper()
	g := startHost(t, nil, store, o, env...)
	if err := g.WaitReady(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	wait.Until(t, 20*time.Second, "the signing keys to load", func() string {
		if a := g.signUp(false, "nobody@elsewhere.example", correlationID()); a.status == http.StatusServiceUnavailable || a.err != nil {
			return a.String()
		}
		return ""
	})
	return g
}

// startHost starts the host and returns at once, before the handler is
// ready. The handler trusts tenant, or a new tenant of its own when tenant
// is nil.
func startHost(t *testing.T, tenant *bench.Tenant, store *tablestore.Store, o functionshost.Options, env ...string) *gate {
	t.Helper()
	if tenant == nil {
		var err error
		if tenant, err = bench.StartTenant(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { tenant.Close() })
	}
	settings := store.Settings()
	o.Env = append(append(tenant.Env(),
		"INVITATIONS_CONNECTION="+settings.Connection,
		"INVITATIONS_TABLE="+settings.Table,
		"INVITE_LOG_LEVEL=info",
	), append(o.Env, env...)...)
	h, err := functionshost.Start(packageZip, o)
	if err != nil {
		t.Fatal(err)
	}
	g := &gate{Host: h, tenant: tenant, client: &http.Client{
		Timeout:       30 * time.Second,
		Transport:     &http.Transport{MaxIdleConnsPerHost: 128, DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	if g.token, err = tenant.Token(0, time.Hour); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		h.Close()
		g.client.CloseIdleConnections()
		if t.Failed() {
			t.Logf("host log:\n%s", hostLog(h))
		}
	})
	return g
}

// hostLog formats the host's log for a failure message.
func hostLog(h *functionshost.Host) string {
	var b strings.Builder
	for _, e := range h.Logs() {
		fmt.Fprintf(&b, "%s %-11s [%s] %.400s\n", e.Time.Format("15:04:05.000"), e.Level, e.Category, e.Message)
	}
	return b.String()
}

// answer is what came back through the host.
type answer struct {
	status  int
	header  http.Header
	body    []byte
	elapsed time.Duration
	err     error
}

func (a answer) String() string {
	if a.err != nil {
		return "error: " + a.err.Error()
	}
	return fmt.Sprintf("HTTP %d %.300s", a.status, a.body)
}

// do sends req through the host's public endpoint.
func (g *gate) do(req *http.Request) answer {
	started := time.Now()
	resp, err := g.client.Do(req)
	if err != nil {
		return answer{err: err, elapsed: time.Since(started)}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: b, err: err, elapsed: time.Since(started)}
}

// post sends body to path as Entra does: POST, JSON, Content-Length, the
// bearer token.
func (g *gate) post(path string, body []byte) answer {
	req, err := http.NewRequest(http.MethodPost, g.URL+path, bytes.NewReader(body))
	if err != nil {
		return answer{err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+g.token)
	return g.do(req)
}

// signUp posts an email sign-up by email on the start or submit event.
func (g *gate) signUp(submit bool, email, correlationID string) answer {
	path := bench.StartPath
	if submit {
		path = bench.SubmitPath
	}
	return g.post(path, bench.SignUpBody(submit, email, correlationID))
}

// outcome reads a 200 answer to event ev: "continue", "block: <title>",
// or what else came back.
func (a answer) outcome(ev graph.Event) string {
	if a.err != nil || a.status != http.StatusOK {
		return a.String()
	}
	r, err := graph.DecodeResponse(bytes.NewReader(a.body), ev)
	switch {
	case err != nil:
		return "not a Graph answer: " + err.Error()
	case r.Continues():
		return "continue"
	}
	title, _, _ := r.BlockPage()
	return "block: " + title
}

var corrSeq atomic.Int64

// correlationID returns a fresh, GUID-shaped correlation id.
func correlationID() string {
	return fmt.Sprintf("h0570000-0000-4000-8000-%012d", corrSeq.Add(1))
}

// consoleLines returns what the handler wrote, as the host logged it, at
// the given levels (all when none).
func consoleLines(h *functionshost.Host, levels ...string) []functionshost.LogEntry {
	var out []functionshost.LogEntry
	for _, e := range h.Logs() {
		if e.Category != functionshost.ConsoleCategory {
			continue
		}
		if len(levels) == 0 || slices.Contains(levels, e.Level) {
			out = append(out, e)
		}
	}
	return out
}

// logLine is the part of a handler log line the tests read.
type logLine struct {
	Level        string `json:"level"`
	Message      string `json:"message"`
	InvocationID string `json:"invocation_id"`
	Outcome      string `json:"outcome"`
	Correlation  string `json:"correlation_id"`
}

func parseLine(s string) (logLine, bool) {
	var l logLine
	return l, json.Unmarshal([]byte(s), &l) == nil
}
