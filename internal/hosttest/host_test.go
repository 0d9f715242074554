package hosttest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/invitegate/invitegate/internal/bench"
	"github.com/invitegate/invitegate/internal/graph"
	"github.com/invitegate/invitegate/internal/invite"
	"github.com/invitegate/invitegate/internal/testutil/azurite"
	"github.com/invitegate/invitegate/internal/testutil/fixtures"
	"github.com/invitegate/invitegate/internal/testutil/functionshost"
	"github.com/invitegate/invitegate/internal/testutil/wait"
)

// Every request fixture, sent through the host as Entra sends it, gets the
// answer in the server's golden file; and in all that, the handler writes
// nothing to stderr, so the host logs no warning and no error.
func TestFixturesThroughHost(t *testing.T) {
	t.Parallel()
	g := deploy(t, newTable(t, azurite.Connection(t)), functionshost.Options{})
	// From here on the keys are loaded: this is normal operation.
	logsBefore, invocationsBefore := len(g.Logs()), len(g.Invocations())
	names, bodies := fixtures.Requests(t)
	for _, name := range names {
		path := bench.StartPath
		if strings.HasPrefix(name, "submit") {
			path = bench.SubmitPath
		}
		a := g.post(path, bodies[name])
		if a.status != http.StatusOK {
			t.Errorf("%s: %s", name, a)
			continue
		}
		want, err := os.ReadFile(filepath.Join("..", "server", "testdata", "golden", name))
		if err != nil {
			t.Fatal(err)
		}
		if !sameJSON(a.body, want) {
			t.Errorf("%s: the answer differs from the golden file:\n got %s\nwant %s", name, a.body, want)
		}
		if a.header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: Content-Type %q", name, a.header.Get("Content-Type"))
		}
	}
	for _, inv := range g.Invocations()[invocationsBefore:] {
		if inv.Status != http.StatusOK {
			t.Errorf("invocation %+v", inv)
		}
	}
	decisions := 0
	for _, e := range g.Logs()[logsBefore:] {
		if e.Category != functionshost.ConsoleCategory {
			continue
		}
		if e.Level != functionshost.Information {
			t.Errorf("in normal operation the host logged a %s from the handler: %s", e.Level, e.Message)
		}
		if l, ok := parseLine(e.Message); ok && l.Message == "decision" {
			decisions++
		}
	}
	if decisions != len(names) {
		t.Errorf("%d decision lines at Information for %d requests", decisions, len(names))
	}
}

func sameJSON(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return bytes.Equal(xb, yb)
}

// The invocation id the host sends lands in the decision's log line.
func TestInvocationIDInDecisionLog(t *testing.T) {
	t.Parallel()
	g := deploy(t, newTable(t, azurite.Connection(t)), functionshost.Options{})
	corr := correlationID()
	if a := g.signUp(false, "jo.bloggs@example.org", corr); a.outcome(graph.AttributeCollectionStart) != "continue" {
		t.Fatalf("sign-up: %s", a)
	}
	invs := g.Invocations()
	id := invs[len(invs)-1].ID
	wait.Until(t, 10*time.Second, "the decision log line with the invocation id", func() string {
		for _, e := range consoleLines(g.Host, functionshost.Information) {
			if l, ok := parseLine(e.Message); ok && l.Message == "decision" && l.Correlation == corr {
				if l.InvocationID != id {
					return fmt.Sprintf("invocation_id %q, want %q: %s", l.InvocationID, id, e.Message)
				}
				return ""
			}
		}
		return "no decision line for correlation id " + corr
	})
}

// What a request without a body (or whose body the host does not forward)
// gets back is the handler's own 4xx, or the host's 500 for a chunked
// body, which the host cannot forward at all.
func TestRequestsWithoutBody(t *testing.T) {
	t.Parallel()
	g := deploy(t, newTable(t, azurite.Connection(t)), functionshost.Options{})
	body := bench.SignUpBody(false, "jo.bloggs@example.org", correlationID())
	for _, tc := range []struct {
		name   string
		req    func() *http.Request
		status int
		error  string // the handler's error code; "" for the host's own answer
	}{
		{"no body, no content type", func() *http.Request {
			r, _ := http.NewRequest(http.MethodPost, g.URL+bench.StartPath, nil)
			return r
		}, http.StatusUnsupportedMediaType, "unsupported_media_type"},
		{"no body, JSON content type (the host drops it with the body)", func() *http.Request {
			r, _ := http.NewRequest(http.MethodPost, g.URL+bench.StartPath, http.NoBody)
			r.Header.Set("Content-Type", "application/json")
			return r
		}, http.StatusUnsupportedMediaType, "unsupported_media_type"},
		{"a body without a content type", func() *http.Request {
			r, _ := http.NewRequest(http.MethodPost, g.URL+bench.StartPath, bytes.NewReader(body))
			return r
		}, http.StatusUnsupportedMediaType, "unsupported_media_type"},
		{"an empty JSON body", func() *http.Request {
			r, _ := http.NewRequest(http.MethodPost, g.URL+bench.StartPath, bytes.NewReader(nil))
			r.Header.Set("Content-Type", "application/json")
			r.ContentLength = 0
			return r
		}, http.StatusUnsupportedMediaType, "unsupported_media_type"},
		{"a chunked body", func() *http.Request {
			r, _ := http.NewRequest(http.MethodPost, g.URL+bench.StartPath, struct{ *bytes.Reader }{bytes.NewReader(body)})
			r.Header.Set("Content-Type", "application/json")
			return r
		}, http.StatusInternalServerError, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := tc.req()
			req.Header.Set("Authorization", "Bearer "+g.token)
			a := g.do(req)
			if a.status != tc.status {
				t.Fatalf("%s, want HTTP %d", a, tc.status)
			}
			var e struct{ Error string }
			json.Unmarshal(a.body, &e)
			if e.Error != tc.error {
				t.Errorf("error code %q, want %q: %s", e.Error, tc.error, a.body)
			}
		})
	}
}

// Refusals keep their headers through the host: the challenge, the retry
// hint and no caching.
func TestRefusalHeadersPassThrough(t *testing.T) {
	t.Parallel()
	store := newTable(t, azurite.Connection(t))
	g := deploy(t, store, functionshost.Options{})
	big := bytes.Repeat([]byte(" "), graph.MaxBodyBytes+1024)
	copy(big, `{"data":{}}`)
	check := func(name string, a answer, status int, want map[string]string) {
		t.Helper()
		if a.status != status {
			t.Errorf("%s: %s, want HTTP %d", name, a, status)
			return
		}
		for k, v := range want {
			if got := a.header.Get(k); got != v {
				t.Errorf("%s: %s %q, want %q", name, k, got, v)
			}
		}
	}
	noToken, _ := http.NewRequest(http.MethodPost, g.URL+bench.StartPath, bytes.NewReader(bench.SignUpBody(false, "jo.bloggs@example.org", correlationID())))
	noToken.Header.Set("Content-Type", "application/json")
	// A forged Easy Auth principal is passed on by the host and ignored by
	// the handler, which checks the bearer token.
	noToken.Header.Set("X-MS-CLIENT-PRINCIPAL", "eyJhdXRoX3R5cCI6ImFhZCJ9")
	noToken.Header.Set("X-MS-CLIENT-PRINCIPAL-IDP", "aad")
	check("401", g.do(noToken), http.StatusUnauthorized, map[string]string{"WWW-Authenticate": "Bearer", "Cache-Control": "no-store", "Content-Type": "application/json"})
	check("413", g.post(bench.StartPath, big), http.StatusRequestEntityTooLarge, map[string]string{"Cache-Control": "no-store", "Content-Type": "application/json"})
	textPlain, _ := http.NewRequest(http.MethodPost, g.URL+bench.StartPath, strings.NewReader("hello"))
	textPlain.Header.Set("Content-Type", "text/plain")
	textPlain.Header.Set("Authorization", "Bearer "+g.token)
	check("415", g.do(textPlain), http.StatusUnsupportedMediaType, map[string]string{"Cache-Control": "no-store"})

	// 503: the tenant's keys are down when the handler starts.
	tenant, err := bench.StartTenant()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tenant.Close() })
	tenant.SetDown(true)
	down := startHost(t, tenant, store, functionshost.Options{})
	if err := down.WaitReady(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	check("503", down.signUp(false, "jo.bloggs@example.org", correlationID()), http.StatusServiceUnavailable,
		map[string]string{"WWW-Authenticate": "Bearer", "Retry-After": "5", "Cache-Control": "no-store"})

	// The refusals are warnings in the host's log, not errors.
	wait.Until(t, 10*time.Second, "the 401 logged as a warning", func() string {
		for _, e := range consoleLines(g.Host) {
			if strings.Contains(e.Message, "request not authenticated") {
				if e.Level != functionshost.Warning {
					return fmt.Sprintf("logged as %s: %s", e.Level, e.Message)
				}
				return ""
			}
		}
		return "no line says the request was not authenticated"
	})
}

// The host's health ping, GET /, is answered at once while every sign-up
// waits on a frozen store: the pings finish long before the first
// sign-up, which waits out the store timeout. The 100 ms target is
// measured and reported. The failed decisions are errors in the host's
// log, without the addresses.
func TestHealthPingWhileStoreFrozen(t *testing.T) {
	t.Parallel()
	const storeTimeout = 1500 * time.Millisecond
	az := azurite.Start(t)
	g := deploy(t, newTable(t, az.ConnectionString()), functionshost.Options{}, "INVITE_STORE_TIMEOUT="+storeTimeout.String())

	az.Pause()
	defer az.Resume()
	const signUps = 8
	started := time.Now()
	done := make(chan answer, signUps)
	for i := range signUps {
		go func() { done <- g.signUp(i%2 == 1, "jo.bloggs@example.org", correlationID()) }()
	}
	time.Sleep(100 * time.Millisecond) // the sign-ups are waiting on the store
	var pings []time.Duration
	for range 10 {
		status, d, err := g.Ping(context.Background())
		if err != nil || status != http.StatusOK {
			t.Fatalf("ping: %d %v", status, err)
		}
		pings = append(pings, d)
		time.Sleep(5 * time.Millisecond)
	}
	pinged := time.Since(started)
	first := <-done
	firstAnswered := time.Since(started)
	az.Resume()
	for range signUps - 1 {
		<-done
	}

	sort.Slice(pings, func(i, j int) bool { return pings[i] < pings[j] })
	median, slowest := pings[len(pings)/2], pings[len(pings)-1]
	t.Logf("health pings while the store was frozen: median %v, slowest %v (target 100 ms); the first sign-up answered after %v",
		median.Round(time.Microsecond), slowest.Round(time.Microsecond), firstAnswered.Round(time.Millisecond))
	if slowest > 100*time.Millisecond {
		t.Logf("note: the slowest ping missed the 100 ms target on this machine")
	}
	if pinged >= firstAnswered {
		t.Errorf("the pings took until %v, after the first sign-up was answered at %v: they waited on the store", pinged, firstAnswered)
	}
	if slowest >= storeTimeout/2 {
		t.Errorf("a ping took %v, not far from the store timeout %v", slowest, storeTimeout)
	}
	if got := first.outcome(graph.AttributeCollectionStart) + first.outcome(graph.AttributeCollectionSubmit); !strings.Contains(got, "block: Service temporarily unavailable") {
		t.Errorf("a sign-up during the freeze: %s", first)
	}

	wait.Until(t, 10*time.Second, "the failed decisions logged as errors", func() string {
		n := 0
		for _, e := range consoleLines(g.Host, functionshost.Error) {
			if l, ok := parseLine(e.Message); ok && l.Outcome == "unavailable" {
				n++
			}
			if strings.Contains(e.Message, "jo.bloggs@example.org") {
				t.Fatalf("an error line holds the raw address: %s", e.Message)
			}
		}
		if n < signUps {
			return fmt.Sprintf("%d unavailable decisions logged as errors, want %d", n, signUps)
		}
		return ""
	})
}

// SIGKILL in the middle of 50 submits, then the host's restart on the same
// port: every acknowledged redemption is in the table, and Entra's retries
// of all 50 (same correlation ids) leave each count exact.
func TestSIGKILLDuringSubmits(t *testing.T) {
	t.Parallel()
	az := azurite.Start(t) // paused below, so private
	const crowd = "crowd@example.org"
	domain := invite.Key{Subject: partnerDomain, App: bench.AppID}
	type submit struct {
		email, corr string
		key         invite.Key // the invitation counted
		perAddress  bool       // counted in the address's own record of the domain invitation
	}
	var singles, crowded, domainers []submit
	var extra []invite.Invitation
	for i := range 30 {
		email := fmt.Sprintf("kill%02d@example.org", i)
		k := invite.Key{Subject: email, App: invite.AnyApp}
		extra = append(extra, invite.Invitation{Key: k, Status: invite.StatusPending})
		singles = append(singles, submit{email: email, key: k})
	}
	extra = append(extra, invite.Invitation{Key: invite.Key{Subject: crowd, App: invite.AnyApp}, Status: invite.StatusPending})
	for i := range 10 {
		crowded = append(crowded, submit{email: crowd, key: invite.Key{Subject: crowd, App: invite.AnyApp}})
		domainers = append(domainers, submit{email: fmt.Sprintf("member%02d%s", i, partnerDomain), key: domain, perAddress: true})
	}
	// Interleave the kinds, so that the kill falls among all of them.
	var submits []submit
	for i := range 10 {
		submits = append(submits, singles[3*i], crowded[i], singles[3*i+1], domainers[i], singles[3*i+2])
	}
	for i := range submits {
		submits[i].corr = correlationID()
	}
	store := newTable(t, az.ConnectionString(), extra...)
	g := deploy(t, store, functionshost.Options{}, "INVITE_STORE_TIMEOUT=1500ms")
	ctx := context.Background()
	count := func(s submit) int64 {
		t.Helper()
		if s.perAddress {
			r, err := store.AddressRedemptions(ctx, s.key, s.email)
			if err != nil {
				t.Fatal(err)
			}
			return r.Count
		}
		inv, err := store.Get(ctx, s.key)
		if err != nil {
			t.Fatal(err)
		}
		return inv.Count
	}

	var mu sync.Mutex
	acked := make([]bool, len(submits))
	outcomes := map[string]int{}
	answered, sent := 0, 0
	var wg sync.WaitGroup
	for i, s := range submits {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(i) * 5 * time.Millisecond)
			mu.Lock()
			sent++
			mu.Unlock()
			a := g.signUp(true, s.email, s.corr)
			mu.Lock()
			answered++
			out := a.outcome(graph.AttributeCollectionSubmit)
			acked[i] = out == "continue"
			outcomes[strings.SplitN(out, " {", 2)[0]]++
			mu.Unlock()
		}()
	}
	ackedNow := func() (n int) {
		for _, ok := range acked {
			if ok {
				n++
			}
		}
		return n
	}
	// Once some submits are acknowledged, freeze the store so that the
	// next ones pile up inside the handler, then kill it under them.
	wait.Until(t, 30*time.Second, "15 acknowledged submits", func() string {
		mu.Lock()
		defer mu.Unlock()
		if n := ackedNow(); n < 15 {
			return fmt.Sprintf("%d acknowledged", n)
		}
		return ""
	})
	az.Pause()
	wait.Until(t, 30*time.Second, "3 submits in flight", func() string {
		mu.Lock()
		defer mu.Unlock()
		if inFlight := sent - answered; inFlight < 3 {
			return fmt.Sprintf("%d in flight", inFlight)
		}
		return ""
	})
	pid, err := g.Signal(syscall.SIGKILL)
	az.Resume()
	if err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	if err := g.WaitState(functionshost.Restarting, 10*time.Second); err != nil && g.State() != functionshost.Running {
		t.Fatal(err)
	}
	if err := g.WaitReady(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	restarted := time.Since(killed)
	wg.Wait()

	ws := g.Workers()
	if len(ws) != 2 || ws[0].Pid != pid || ws[0].ExitCode != 128+int(syscall.SIGKILL) || ws[1].Port != ws[0].Port || ws[1].Pid == pid {
		t.Fatalf("starts of the handler: %+v, want the killed one and one restart on the same port", ws)
	}
	unacked := len(submits) - ackedNow()
	t.Logf("%d of %d submits acknowledged; the handler was ready again %v after the kill; answers: %v", ackedNow(), len(submits), restarted.Round(time.Millisecond), outcomes)
	if unacked == 0 {
		t.Fatalf("the kill interrupted no submit: the test did not test anything")
	}

	// Nothing acknowledged is lost.
	crowdAcked, landedUnacked := 0, 0
	for i, s := range submits {
		if s.email == crowd {
			if acked[i] {
				crowdAcked++
			}
			continue
		}
		if acked[i] {
			// A write that outlived its request's store budget may
			// still be landing: wait for it, but never past 1.
			wait.Until(t, 10*time.Second, s.email+" counted", func() string {
				if got := count(s); got != 1 {
					return fmt.Sprintf("acknowledged, counted %d", got)
				}
				return ""
			})
		} else if got := count(s); got > 1 {
			t.Errorf("%s: counted %d", s.email, got)
		} else if got == 1 {
			landedUnacked++
		}
	}
	t.Logf("%d unacknowledged submits to their own rows were recorded all the same before Entra's retries", landedUnacked)
	crowdKey := submit{key: invite.Key{Subject: crowd, App: invite.AnyApp}}
	wait.Until(t, 10*time.Second, crowd+" counted", func() string {
		if got := count(crowdKey); got < int64(crowdAcked) || got > 10 {
			return fmt.Sprintf("counted %d with %d acknowledged of 10", got, crowdAcked)
		}
		return ""
	})

	// Entra retries every submit with its correlation id: each is
	// acknowledged now, and counted once in all.
	for _, a := range wait.All(len(submits), func(i int) answer { return g.signUp(true, submits[i].email, submits[i].corr) }) {
		if a.outcome(graph.AttributeCollectionSubmit) != "continue" {
			t.Errorf("a retry: %s", a)
		}
	}
	for _, s := range submits {
		want := int64(1)
		if s.email == crowd {
			want = 10
		}
		wait.Until(t, 10*time.Second, s.email+" after the retries", func() string {
			got := count(s)
			if got > want {
				t.Fatalf("%s after the retries: counted %d, more than %d", s.email, got, want)
			}
			if got != want {
				return fmt.Sprintf("counted %d, want %d", got, want)
			}
			return ""
		})
	}
}

// A port someone else holds: the handler exits non-zero at once with one
// line on stderr; the host restarts it on the same port and, after three
// such errors, stops the app.
func TestTakenPort(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	g := startHost(t, nil, newTable(t, azurite.Connection(t)), functionshost.Options{Port: port})
	if err := g.WaitState(functionshost.Stopped, 60*time.Second); err != nil {
		t.Fatal(err)
	}
	ws := g.Workers()
	if len(ws) != 3 {
		t.Fatalf("%d starts, want 3 before the host stops the app", len(ws))
	}
	var slowest time.Duration
	for _, w := range ws {
		slowest = max(slowest, w.End.Sub(w.Start))
		if w.Port != port || w.ExitCode != 1 || w.Killed {
			t.Errorf("start %+v: want exit 1 on port %d", w, port)
		}
		if len(w.Stderr) != 1 || !strings.Contains(w.Stderr[0], "address already in use") {
			t.Errorf("stderr %q, want one line saying the address is in use", w.Stderr)
		}
	}
	t.Logf("each start exited within %v", slowest.Round(time.Millisecond))
	if slowest > 10*time.Second {
		t.Errorf("a start took %v to give up on a taken port", slowest)
	}
	if a := g.signUp(false, "jo.bloggs@example.org", correlationID()); a.status != http.StatusServiceUnavailable {
		t.Errorf("the stopped app answered %s", a)
	}
}

// Two instances of the app at once, on different ports, both serve.
func TestTwoInstances(t *testing.T) {
	t.Parallel()
	store := newTable(t, azurite.Connection(t))
	a, b := deploy(t, store, functionshost.Options{}), deploy(t, store, functionshost.Options{})
	if a.HandlerPort == b.HandlerPort || a.AppRoot == b.AppRoot {
		t.Fatalf("both instances on port %d / in %s", a.HandlerPort, a.AppRoot)
	}
	for _, g := range []*gate{a, b, a, b} {
		if got := g.signUp(true, "jo.bloggs@example.org", correlationID()).outcome(graph.AttributeCollectionSubmit); got != "continue" {
			t.Errorf("instance on port %d: %s", g.HandlerPort, got)
		}
	}
	for _, g := range []*gate{a, b} {
		if n := len(g.Workers()); n != 1 {
			t.Errorf("instance on port %d started %d times", g.HandlerPort, n)
		}
	}
}

// The host routes the events in any case and with a trailing slash, and
// forwards the path as sent: the handler answers each of them. Paths and
// methods the host does not route get the host's 404.
func TestRouteVariants(t *testing.T) {
	t.Parallel()
	g := deploy(t, newTable(t, azurite.Connection(t)), functionshost.Options{})
	for _, tc := range []struct {
		path   string
		submit bool
		want   string
	}{
		{"/api/attributeStart", false, "continue"},
		{"/API/AttributeStart", false, "continue"},
		{"/api/attributestart/", false, "continue"},
		{"/api/attributeSubmit/", true, "continue"},
		{"/Api/ATTRIBUTESUBMIT", true, "continue"},
		{"/api/attributeStart//", false, "HTTP 404 "},
		{"/api/attributeStart/x", false, "HTTP 404 "},
		{"/attributeStart", false, "HTTP 404 "},
	} {
		ev := graph.AttributeCollectionStart
		if tc.submit {
			ev = graph.AttributeCollectionSubmit
		}
		before := len(g.Invocations())
		a := g.post(tc.path, bench.SignUpBody(tc.submit, "jo.bloggs@example.org", correlationID()))
		if got := a.outcome(ev); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.path, got, tc.want)
		}
		if forwarded := len(g.Invocations()) > before; forwarded != (tc.want == "continue") {
			t.Errorf("%s: reached the handler: %v", tc.path, forwarded)
		}
	}
	get, _ := http.NewRequest(http.MethodGet, g.URL+"/api/attributeStart", nil)
	if a := g.do(get); a.status != http.StatusNotFound {
		t.Errorf("GET through the host: %s, want the host's 404 (the functions take POST only)", a)
	}
}
