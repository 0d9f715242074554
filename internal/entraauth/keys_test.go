package entraauth_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/invitegate/invitegate/internal/entraauth"
	"github.com/invitegate/invitegate/internal/entraauth/entratest"
)

func TestUnknownKidRefreshesOnceThenWaitsForTheFloor(t *testing.T) {
	t.Parallel()
	e := newReadyEnv(t, nil)
	k := loadTestKeys()
	unknown := func(kid string) {
		tok := e.token(entratest.SignedWith(k.unpublished), entratest.WithKID(kid))
		wantError(t, e.auth.Authenticate(request("Bearer "+tok)), entraauth.CheckUnknownKey, http.StatusUnauthorized, tok)
	}
	hits := e.tenant.JWKSFetches()

	// Right after start-up: the first unknown kid refreshes at once.
	unknown("new-1")
	if got := e.tenant.JWKSFetches() - hits; got != 1 {
		t.Fatalf("first unknown kid: %d JWKS fetches, want 1", got)
	}
	// Within the floor, more unknown kids fetch nothing.
	e.clock.Add(entraauth.DefaultTuning().RefreshFloor - time.Second)
	unknown("new-2")
	if got := e.tenant.JWKSFetches() - hits; got != 1 {
		t.Fatalf("second unknown kid within the floor: %d JWKS fetches, want still 1", got)
	}
	// After the floor, the next one may refresh again.
	e.clock.Add(time.Second)
	unknown("new-3")
	if got := e.tenant.JWKSFetches() - hits; got != 2 {
		t.Fatalf("unknown kid after the floor: %d JWKS fetches, want 2", got)
	}
}

func TestKeyRotation(t *testing.T) {
	t.Parallel()
	e := newReadyEnv(t, nil)
	hits := e.tenant.JWKSFetches()
	old := e.token()

	// Entra publishes a new key, keeps the old one, and signs with the new.
	kid := e.tenant.Rotate(true)
	tok := e.token()
	if err := e.auth.Authenticate(request("Bearer " + tok)); err != nil {
		t.Fatalf("token signed with the new key %s: %v", kid, err)
	}
	if got := e.tenant.JWKSFetches() - hits; got != 1 {
		t.Errorf("%d JWKS fetches, want 1", got)
	}
	// The new key is now known: another token signed with it fetches
	// nothing, and the old key still verifies.
	if err := e.auth.Authenticate(request("Bearer " + e.token(entratest.WithClaim("jti", "2")))); err != nil {
		t.Fatalf("second token signed with the new key: %v", err)
	}
	if err := e.auth.Authenticate(request("Bearer " + old)); err != nil {
		t.Fatalf("token signed with the old key, still published: %v", err)
	}
	if got := e.tenant.JWKSFetches() - hits; got != 1 {
		t.Errorf("%d JWKS fetches after the second token, want still 1", got)
	}
}

func TestUnknownKidFlood(t *testing.T) {
	t.Parallel()
	e := newReadyEnv(t, nil)
	k := loadTestKeys()
	tokens := make([]string, 200)
	for i := range tokens {
		tokens[i] = e.token(entratest.SignedWith(k.unpublished), entratest.WithKID(fmt.Sprintf("forged-%d", i)))
	}
	hits := e.tenant.JWKSFetches()

	var wg sync.WaitGroup
	errs := make([]error, len(tokens))
	for i, tok := range tokens {
		wg.Go(func() { errs[i] = e.auth.Authenticate(request("Bearer " + tok)) })
	}
	wg.Wait()

	for i, err := range errs {
		wantError(t, err, entraauth.CheckUnknownKey, http.StatusUnauthorized, tokens[i])
	}
	if got := e.tenant.JWKSFetches() - hits; got != 1 {
		t.Errorf("a flood of %d unknown kids caused %d JWKS fetches, want 1", len(tokens), got)
	}
}

func TestKeysDownAtStart(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(tenant *entratest.Tenant, _ *entraauth.Config, _ *entraauth.Options, _ *entraauth.Tuning) {
		tenant.Down(true)
	})
	tok := e.token()

	eventually(t, 5*time.Second, "a failed fetch", func() bool { return e.auth.LastFetchError() != nil })
	for range 3 {
		err := e.auth.Authenticate(request("Bearer " + tok))
		got := wantError(t, err, entraauth.CheckKeysUnavailable, http.StatusServiceUnavailable, tok)
		if !strings.Contains(got.Error(), "503 Service Unavailable") {
			t.Errorf("the 503 does not say why: %v", got)
		}
	}
	if e.auth.Ready() {
		t.Error("Ready() = true while the keys never loaded")
	}
	if logs := e.logs.String(); strings.Count(logs, "have never loaded") != 1 {
		t.Errorf("want the 503 logged once (rate limited), got logs:\n%s", logs)
	}
	// A request that cannot be judged yet is still refused as 401 when it
	// is wrong for a reason that needs no key.
	wantError(t, e.auth.Authenticate(request()), entraauth.CheckMissingToken, http.StatusUnauthorized, "")

	// The keys come back; the background retry picks them up while the
	// clock stands still, so no unknown-kid refresh can be what loads them.
	e.tenant.Down(false)
	e.waitReady(t)
	if err := e.auth.Authenticate(request("Bearer " + tok)); err != nil {
		t.Fatalf("after the keys came back: %v", err)
	}
}

func TestRetryBacksOff(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(tenant *entratest.Tenant, _ *entraauth.Config, _ *entraauth.Options, tune *entraauth.Tuning) {
		tenant.Down(true)
		tune.RetryMin = 10 * time.Millisecond
		tune.RetryMax = time.Second
	})
	time.Sleep(300 * time.Millisecond)
	// Doubling from 10ms fetches at about 0, 10, 30, 70, 150 and 310ms;
	// without backoff it would be about 30 times.
	if n := e.tenant.DiscoveryFetches(); n < 2 || n > 8 {
		t.Errorf("%d fetches in 300ms while down, want 2 to 8", n)
	}
}

func TestRequestWaitsAtMostMaxWait(t *testing.T) {
	t.Parallel()
	const maxWait = 50 * time.Millisecond
	var release func()
	e := newEnv(t, func(tenant *entratest.Tenant, _ *entraauth.Config, o *entraauth.Options, _ *entraauth.Tuning) {
		release = tenant.Hold()
		o.MaxWait = maxWait
	})
	defer release()
	tok := e.token()

	start := time.Now()
	err := e.auth.Authenticate(request("Bearer " + tok))
	took := time.Since(start)
	wantError(t, err, entraauth.CheckKeysUnavailable, http.StatusServiceUnavailable, tok)
	// The fetch is held until release, so only MaxWait can end the wait;
	// the upper bound is loose because the machine may be busy.
	if took < maxWait || took > 3*time.Second {
		t.Errorf("Authenticate took %v, want about MaxWait (%v)", took, maxWait)
	}

	// The fetch the request gave up on carries on and serves the next one.
	release()
	e.waitReady(t)
	if err := e.auth.Authenticate(request("Bearer " + tok)); err != nil {
		t.Fatalf("after the fetch finished: %v", err)
	}
}

func TestEarlyRequestWaitsForTheFirstFetch(t *testing.T) {
	t.Parallel()
	var release func()
	e := newEnv(t, func(tenant *entratest.Tenant, _ *entraauth.Config, o *entraauth.Options, _ *entraauth.Tuning) {
		release = tenant.Hold()
		o.MaxWait = 5 * time.Second
	})
	good := e.token()
	// An issuer that only the discovery document could have vouched for.
	bad := e.token(entratest.WithIssuer(e.tenant.Authority() + "/other"))
	go func() {
		time.Sleep(20 * time.Millisecond)
		release()
	}()

	// The discovery document's issuer is unknown until the fetch
	// completes: that must turn into neither a 401 for the good token nor
	// a pass for the bad one.
	var wg sync.WaitGroup
	var goodErr, badErr error
	wg.Go(func() { goodErr = e.auth.Authenticate(request("Bearer " + good)) })
	wg.Go(func() { badErr = e.auth.Authenticate(request("Bearer " + bad)) })
	wg.Wait()
	if goodErr != nil {
		t.Errorf("a valid token during the first fetch: %v", goodErr)
	}
	wantError(t, badErr, entraauth.CheckIssuer, http.StatusUnauthorized, bad)
	if got := e.tenant.JWKSFetches(); got != 1 {
		t.Errorf("%d JWKS fetches, want 1 (requests join the start-up fetch)", got)
	}
}

func TestPeriodicRefresh(t *testing.T) {
	t.Parallel()
	e := newReadyEnv(t, func(_ *entratest.Tenant, _ *entraauth.Config, _ *entraauth.Options, tune *entraauth.Tuning) {
		tune.RefreshEvery = 20 * time.Millisecond
	})
	kid := e.tenant.Rotate(false)
	eventually(t, 5*time.Second, "the periodic refresh", func() bool { return e.auth.HasKey(kid) })
	if e.auth.HasKey("main") {
		t.Error("a key withdrawn from the JWKS is still used")
	}
}

func TestRefreshStopsWithContext(t *testing.T) {
	t.Parallel()
	tenant := newTenant(t, newClock())
	tune := testTuning()
	tune.RefreshEvery = 5 * time.Millisecond
	ctx, cancel := context.WithCancel(t.Context())
	a, err := entraauth.NewWithTuning(ctx, tenant.Config(), entraauth.Options{}, tune)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "a few periodic refreshes", func() bool { return tenant.DiscoveryFetches() >= 3 })

	cancel()
	time.Sleep(20 * time.Millisecond) // let a fetch in flight finish
	hits := tenant.DiscoveryFetches()
	time.Sleep(50 * time.Millisecond) // ten refresh periods
	if got := tenant.DiscoveryFetches(); got != hits {
		t.Errorf("%d fetches after the context ended, want 0", got-hits)
	}
	if !a.Ready() {
		t.Error("Ready() = false after keys loaded")
	}
}

func TestBadDiscovery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		prepare func(*entratest.Tenant)
		want    string
	}{
		{"issuer of another tenant", func(f *entratest.Tenant) {
			f.SetIssuer("https://" + otherTenant + ".ciamlogin.com/" + otherTenant + "/v2.0")
		}, "does not name tenant " + testTenant},
		{"multi-tenant issuer template", func(f *entratest.Tenant) {
			f.SetIssuer("https://login.microsoftonline.com/{tenantid}/v2.0")
		}, "does not name tenant"},
		{"jwks_uri over plain http", func(f *entratest.Tenant) { f.SetJWKSURI("http://keys.example/keys") }, "use https"},
		{"jwks_uri relative", func(f *entratest.Tenant) { f.SetJWKSURI("/keys") }, "not an absolute URL"},
		{"no usable key", func(f *entratest.Tenant) { f.Withdraw("main") }, "no RSA key that may verify RS256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(tenant *entratest.Tenant, _ *entraauth.Config, _ *entraauth.Options, _ *entraauth.Tuning) {
				tt.prepare(tenant)
			})
			eventually(t, 5*time.Second, "a failed fetch", func() bool { return e.auth.LastFetchError() != nil })
			if err := e.auth.LastFetchError(); !strings.Contains(err.Error(), tt.want) {
				t.Errorf("fetch error %q, want it to contain %q", err, tt.want)
			}
			if e.auth.Ready() {
				t.Error("Ready() = true")
			}
			tok := e.token()
			wantError(t, e.auth.Authenticate(request("Bearer "+tok)), entraauth.CheckKeysUnavailable, http.StatusServiceUnavailable, tok)
		})
	}
}
