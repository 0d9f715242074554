// Package doctor checks, from wherever it runs, what the gate needs with
// the same settings the Function App has: the invitation store, Entra's
// signing keys, the settings themselves and the clock. Each check prints a
// pass/fail line and, on failure, how to fix it.
package doctor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/rs/zerolog"

	"github.com/invitegate/invitegate/internal/entraauth"
	"github.com/invitegate/invitegate/internal/invite"
	"github.com/invitegate/invitegate/internal/settings"
	"github.com/invitegate/invitegate/internal/tablestore"
)

// Status of one check.
type Status string

// Check outcomes.
const (
	Pass Status = "PASS"
	Warn Status = "WARN"
	Fail Status = "FAIL"
	Skip Status = "SKIP"
)

// Result is the outcome of one check.
type Result struct {
	Name   string
	Status Status
	Detail string
	Fix    string
}

// Options are the doctor's dependencies.
type Options struct {
	Getenv     func(string) string
	HTTPClient *http.Client     // nil: a client with a 10s timeout
	Now        func() time.Time // nil: time.Now
	Timeout    time.Duration    // per network check; default 10s
	// OpenStore opens the store; nil means tablestore.Open.
	OpenStore func(tablestore.Settings) (*tablestore.Store, error)
}

// Run performs every check and writes one line per check to w. It returns
// the results; any Fail means the gate would not work as configured.
func Run(ctx context.Context, o Options, w io.Writer) []Result {
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Timeout <= 0 {
		o.Timeout = defaultTimeout
	}
	if o.OpenStore == nil {
		o.OpenStore = func(s tablestore.Settings) (*tablestore.Store, error) {
			return tablestore.Open(s, tablestore.Options{})
		}
	}
	var results []Result
	report := func(r Result) {
		results = append(results, r)
		r.write(w)
	}
	checkStore(ctx, o, report)
	checkTimeouts(o, report)
	checkAuth(ctx, o, report)
	return results
}

const defaultTimeout = 10 * time.Second

// write prints r as one line, and its fix on a second one.
func (r Result) write(w io.Writer) {
	fmt.Fprintf(w, "%-4s  %-18s %s\n", r.Status, r.Name, r.Detail)
	if r.Fix != "" && (r.Status == Fail || r.Status == Warn) {
		fmt.Fprintf(w, "      %-18s fix: %s\n", "", r.Fix)
	}
}

// Failed reports whether any result failed.
func Failed(results []Result) bool {
	for _, r := range results {
		if r.Status == Fail {
			return true
		}
	}
	return false
}

func checkStore(ctx context.Context, o Options, report func(Result)) {
	settings, err := tablestore.SettingsFromEnv(o.Getenv)
	if err != nil {
		report(Result{Name: "store settings", Status: Fail, Detail: err.Error(), Fix: "set the INVITATIONS_* settings as the message says"})
		report(Result{Name: "store reachable", Status: Skip, Detail: "no usable store settings"})
		return
	}
	how := "connection string"
	if settings.ServiceURL != "" {
		how = "Microsoft Entra credential (managed identity in Azure)"
	}
	report(Result{Name: "store settings", Status: Pass, Detail: fmt.Sprintf("table %s, reached with a %s", settings.Where(), how)})

	store, err := o.OpenStore(settings)
	if err != nil {
		report(Result{Name: "store reachable", Status: Fail, Detail: err.Error()})
		return
	}
	cctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	start := time.Now()
	err = store.Ping(cctx)
	took := time.Since(start)
	switch {
	case errors.Is(err, invite.ErrTableMissing):
		report(Result{Name: "store reachable", Status: Fail, Detail: "the storage account answers, but the table does not exist",
			Fix: "run `invitectl init` with the same settings (or check INVITATIONS_TABLE)"})
		return
	case err != nil:
		report(Result{Name: "store reachable", Status: Fail, Detail: err.Error(),
			Fix: "check the endpoint, the network path (firewall, private endpoint) and the identity's Storage Table Data Contributor role"})
		return
	}
	report(Result{Name: "store reachable", Status: Pass, Detail: fmt.Sprintf("table answered in %s", took.Round(time.Millisecond))})

	domains := 0
	err = store.List(cctx, "@", func(inv invite.Invitation) error {
		domains++ // every subject under "@" is a whole domain
		return nil
	})
	if err != nil {
		report(Result{Name: "domain invitations", Status: Fail, Detail: err.Error()})
		return
	}
	report(Result{Name: "domain invitations", Status: Pass, Detail: fmt.Sprintf("%d whole-domain invitations (kept in memory by the handler)", domains)})
}

func checkTimeouts(o Options, report func(Result)) {
	d, err := settings.StoreTimeout(o.Getenv)
	if err != nil {
		report(Result{Name: "store timeout", Status: Fail, Detail: err.Error(), Fix: "set INVITE_STORE_TIMEOUT as the message says, or leave it unset for 700ms"})
		return
	}
	report(Result{Name: "store timeout", Status: Pass, Detail: "INVITE_STORE_TIMEOUT " + d.String()})
}

func checkAuth(ctx context.Context, o Options, report func(Result)) {
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	cfg, err := entraauth.ConfigFromEnv(o.Getenv)
	var auth *entraauth.Authenticator
	if err == nil {
		auth, err = entraauth.New(actx, cfg, entraauth.Options{Logger: zerolog.Nop(), HTTPClient: o.HTTPClient, Now: o.Now})
	}
	if err != nil {
		report(Result{Name: "auth settings", Status: Fail, Detail: err.Error(), Fix: "set the ENTRA_* settings as the message says"})
		return
	}
	status := Pass
	if auth.Mode() == entraauth.ModeOff {
		status = Warn
	}
	report(Result{Name: "auth settings", Status: status, Detail: auth.Describe(),
		Fix: "ENTRA_AUTH=off is for local development only: set ENTRA_AUTH=jwt with ENTRA_TENANT_ID and ENTRA_AUDIENCE"})
	if auth.Mode() != entraauth.ModeJWT {
		return
	}

	wctx, wcancel := context.WithTimeout(ctx, o.Timeout)
	defer wcancel()
	if err := auth.WaitReady(wctx); err != nil {
		report(Result{Name: "signing keys", Status: Fail, Detail: err.Error(),
			Fix: "check ENTRA_AUTHORITY and ENTRA_TENANT_ID, and that outbound HTTPS to the authority is allowed"})
	} else {
		report(Result{Name: "signing keys", Status: Pass, Detail: "discovery and keys loaded from " + auth.DiscoveryURL()})
	}
	checkClock(ctx, o, auth.DiscoveryURL(), report)
}

// checkClock compares this machine's clock with the authority's Date
// header: token lifetimes are checked with 5 minutes of leeway.
func checkClock(ctx context.Context, o Options, url string, report func(Result)) {
	cctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(cctx, http.MethodGet, url, nil)
	if err != nil {
		report(Result{Name: "clock", Status: Skip, Detail: err.Error()})
		return
	}
	sent := o.Now()
	resp, err := o.HTTPClient.Do(req)
	if err != nil {
		report(Result{Name: "clock", Status: Skip, Detail: "could not reach the authority to compare clocks"})
		return
	}
	resp.Body.Close()
	date, err := http.ParseTime(resp.Header.Get("Date"))
	if err != nil {
		report(Result{Name: "clock", Status: Skip, Detail: "the authority sent no Date header"})
		return
	}
	skew := sent.Sub(date)
	if skew < 0 {
		skew = -skew
	}
	// Date has one-second resolution.
	switch {
	case skew > 5*time.Minute:
		report(Result{Name: "clock", Status: Fail, Detail: fmt.Sprintf("this clock is %s off the authority's", skew.Round(time.Second)),
			Fix: "synchronise the clock (NTP): tokens are judged with at most 5 minutes of leeway"})
	case skew > time.Minute:
		report(Result{Name: "clock", Status: Warn, Detail: fmt.Sprintf("this clock is %s off the authority's", skew.Round(time.Second)),
			Fix: "synchronise the clock (NTP)"})
	default:
		report(Result{Name: "clock", Status: Pass, Detail: fmt.Sprintf("within %s of the authority's", (skew + time.Second).Round(time.Second))})
	}
}
