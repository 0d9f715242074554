package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/invitegate/invitegate/internal/bench"
	"github.com/invitegate/invitegate/internal/tablestore"
	"github.com/invitegate/invitegate/internal/testutil/azurite"
	"github.com/invitegate/invitegate/internal/testutil/wait"
)

// The tests that time answers do not run in parallel with the others, so
// that a busy CI machine does not eat the 100 ms of slack they allow.

const storeTimeout = 300 * time.Millisecond

// slack is how much longer than the store timeout an answer may take.
const slack = 100 * time.Millisecond

// people lists one person of each kind, for requests that cycle through
// them.
var people = []string{invited, "amy" + invitedDomain, stranger}

// requireUnavailable checks that every answer is the "try again later"
// block page, within the store timeout plus slack.
func requireUnavailable(t *testing.T, answers []answer) {
	t.Helper()
	var slowest time.Duration
	for i, a := range answers {
		slowest = max(slowest, a.elapsed)
		if a.outcome() != unavailable {
			t.Errorf("request %d (%s): %s, want the unavailable block page; body %s", i, people[i%len(people)], a.outcome(), a.raw)
		}
		if a.elapsed > storeTimeout+slack {
			t.Errorf("request %d answered after %v, want within %v", i, a.elapsed.Round(time.Millisecond), storeTimeout+slack)
		}
	}
	t.Logf("%d requests blocked as unavailable; the slowest answered in %v", len(answers), slowest.Round(time.Millisecond))
}

// The store stops answering (Azurite frozen with SIGSTOP): every request
// gets the unavailable block page within the store timeout, none is let
// through, and the gate recovers without a restart when the store does.
func TestStoreHangs(t *testing.T) {
	az := azurite.Start(t)
	g := startGate(t, newTable(t, az.ConnectionString()), "INVITE_STORE_TIMEOUT="+storeTimeout.String())
	if msg := g.checkDecisions(); msg != "" {
		t.Fatal(msg)
	}

	az.Pause()
	answers := wait.All(24, func(i int) answer { return g.signUp(i%2 == 1, people[i%len(people)]) })
	az.Resume()
	requireUnavailable(t, answers)
	wait.Until(t, 10*time.Second, "decisions after Azurite resumed", g.checkDecisions)
}

// The store is down (Azurite killed): the same, and after it restarts on
// the same port (empty: it kept its data in memory) and is seeded again,
// the gate recovers by itself.
func TestStoreDown(t *testing.T) {
	az := azurite.Start(t)
	store := newTable(t, az.ConnectionString())
	g := startGate(t, store, "INVITE_STORE_TIMEOUT="+storeTimeout.String())
	if msg := g.checkDecisions(); msg != "" {
		t.Fatal(msg)
	}

	az.Kill()
	requireUnavailable(t, wait.All(24, func(i int) answer { return g.signUp(i%2 == 1, people[i%len(people)]) }))

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	restarting := time.Now()
	if err := az.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("Azurite restarted on port %d in %v", az.Port, time.Since(restarting).Round(time.Millisecond))
	// While the table is gone, still nothing gets through.
	for _, a := range wait.All(6, func(i int) answer { return g.signUp(i%2 == 1, people[i%len(people)]) }) {
		if a.outcome() == continued {
			t.Fatalf("a sign-up continued while the table did not exist: %s", a.raw)
		}
	}
	seed(t, store)
	recovering := time.Now()
	wait.Until(t, 10*time.Second, "decisions after Azurite restarted", g.checkDecisions)
	t.Logf("decisions correct again %v after the table was seeded", time.Since(recovering).Round(time.Millisecond))
}

// The table does not exist: every request gets the unavailable block page
// and the log says how to fix it, without the address.
func TestTableMissing(t *testing.T) {
	t.Parallel()
	s, err := tablestore.Open(tablestore.Settings{Connection: azurite.Connection(t), Table: fmt.Sprintf("e2emissing%d", time.Now().UnixNano()%1e9)}, tablestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	g := startGate(t, s)
	for _, submit := range []bool{false, true} {
		if a := g.signUp(submit, invited); a.outcome() != unavailable {
			t.Fatalf("submit %v: %s, want the unavailable block page; body %s", submit, a.outcome(), a.raw)
		}
	}
	wait.Until(t, 5*time.Second, "a log line naming the fix", func() string {
		// The decision failed, so its line is an error: on stderr.
		for _, line := range strings.Split(g.Stderr(), "\n") {
			if strings.Contains(line, `"outcome":"unavailable"`) && strings.Contains(line, "invitectl init") {
				return ""
			}
		}
		return "no decision log line on stderr mentions `invitectl init`:\n" + g.Stderr()
	})
	if logs := g.Logs() + g.Stderr(); strings.Contains(logs, invited) {
		t.Errorf("the log holds a raw email address:\n%s", logs)
	}
}

// The tenant's keys endpoint is down when the gate starts: requests with a
// valid token fail closed with 503 and are never decided; the gate keeps
// retrying in the background and accepts the token once keys arrive.
func TestKeysDownAtStartup(t *testing.T) {
	t.Parallel()
	tenant, err := bench.StartTenant()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tenant.Close() })
	tenant.SetDown(true)
	// With ENTRA_AUTH set here, startGate starts no tenant of its own.
	g := startGate(t, newTable(t, azurite.Connection(t)), tenant.Env()...)
	if g.token, err = tenant.Token(0, time.Hour); err != nil {
		t.Fatal(err)
	}

	for _, submit := range []bool{false, true, false} {
		a := g.signUp(submit, invited)
		if a.status != http.StatusServiceUnavailable {
			t.Fatalf("with no keys loaded: %s, want HTTP 503; body %s", a.outcome(), a.raw)
		}
		requireErrorBody(t, a)
		if a.header.Get("WWW-Authenticate") != "Bearer" {
			t.Errorf("WWW-Authenticate %q, want Bearer", a.header.Get("WWW-Authenticate"))
		}
	}
	if n := tenant.KeyFetches(); n != 0 {
		t.Fatalf("the JWKS was served %d times while down", n)
	}

	tenant.SetDown(false)
	wait.Until(t, 20*time.Second, "an invited sign-up once the keys are back", func() string {
		if a := g.signUp(false, invited); a.outcome() != continued {
			return a.outcome() + ": " + string(a.raw)
		}
		return ""
	})
	if a := g.signUp(true, stranger); a.outcome() != notInvited {
		t.Errorf("a stranger after the keys loaded: %s", a.outcome())
	}

	// A token from anyone else is still refused.
	other, err := bench.StartTenant()
	if err != nil {
		t.Fatal(err)
	}
	other.Close()
	if g.token, err = other.Token(0, time.Hour); err != nil {
		t.Fatal(err)
	}
	if a := g.signUp(false, invited); a.status != http.StatusUnauthorized {
		t.Errorf("a token signed with another key: %s, want HTTP 401", a.outcome())
	}
}

// requireErrorBody checks that a refusal carries a JSON error and no Graph
// action.
func requireErrorBody(t *testing.T, a answer) {
	t.Helper()
	var body struct{ Error, Message string }
	if err := json.Unmarshal(a.raw, &body); err != nil || body.Error == "" || body.Message == "" {
		t.Errorf("HTTP %d with body %q, want a JSON error", a.status, a.raw)
	}
	if strings.Contains(string(a.raw), "actions") {
		t.Errorf("a refusal carries Graph actions: %s", a.raw)
	}
	if ct := a.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
}

// SIGTERM while requests are in flight (held in the handler by a frozen
// store): every one of them is answered, and answered correctly once the
// store is back, before the process exits with status 0.
func TestSIGTERMFinishesInFlight(t *testing.T) {
	az := azurite.Start(t)
	g := startGate(t, newTable(t, az.ConnectionString()), "INVITE_STORE_TIMEOUT=1500ms")
	if msg := g.checkDecisions(); msg != "" {
		t.Fatal(msg)
	}

	az.Pause()
	const n = 40
	results := make(chan answer, n)
	emails := make(chan string, n)
	for i := range n {
		email := people[i%len(people)]
		emails <- email
		go func() { results <- g.signUp(i%2 == 1, email) }()
	}
	time.Sleep(300 * time.Millisecond) // all of them are waiting on the store
	if err := g.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if g.Exited() {
		t.Fatal("the handler exited with requests in flight")
	}
	az.Resume()

	got := map[string]int{}
	for range n {
		a := <-results
		got[a.outcome()]++
	}
	close(emails)
	wantCount := map[string]int{}
	for e := range emails {
		wantCount[want[e]]++
	}
	if fmt.Sprint(got) != fmt.Sprint(wantCount) {
		t.Errorf("in-flight requests answered %v, want %v", got, wantCount)
	}
	code, err := g.Wait(10 * time.Second)
	if err != nil || code != 0 {
		t.Fatalf("exit status %d (%v), want 0\nstderr: %s", code, err, g.Stderr())
	}
	if !strings.Contains(g.Logs(), `"message":"stopped"`) {
		t.Errorf("no \"stopped\" log line:\n%s", g.Logs())
	}
}
