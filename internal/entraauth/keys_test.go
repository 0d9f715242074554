package entraauth

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestUnknownKidRefreshesOnceThenWaitsForTheFloor(t *testing.T) {
	t.Parallel()
	e := newReadyEnv(t, nil)
	k := loadTestKeys()
	unknown := func(kid string) error {
		tok := sign(t, jwt.SigningMethodRS256, k.unpublished, kid, e.v2Claims())
		err := e.auth.Authenticate(request("Bearer " + tok))
		wantError(t, err, checkKid, http.StatusUnauthorized, tok)
		return err
	}
	hits := e.entra.jwksHits.Load()

	// Right after start-up: the first unknown kid refreshes at once.
	unknown("new-1")
	if got := e.entra.jwksHits.Load() - hits; got != 1 {
		t.Fatalf("first unknown kid: %d JWKS fetches, want 1", got)
	}
	// Within the floor, more unknown kids fetch nothing.
	e.clock.Add(defaultTuning().refreshFloor - time.Second)
	unknown("new-2")
	if got := e.entra.jwksHits.Load() - hits; got != 1 {
		t.Fatalf("second unknown kid within the floor: %d JWKS fetches, want still 1", got)
	}
	// After the floor, the next one may refresh again.
	e.clock.Add(time.Second)
	unknown("new-3")
	if got := e.entra.jwksHits.Load() - hits; got != 2 {
		t.Fatalf("unknown kid after the floor: %d JWKS fetches, want 2", got)
	}
}

func TestKeyRotation(t *testing.T) {
	t.Parallel()
	e := newReadyEnv(t, nil)
	k := loadTestKeys()
	hits := e.entra.jwksHits.Load()

	// Entra publishes a new key and starts signing with it.
	e.entra.publish(rsaJWK(t, "main", &k.main.PublicKey, true), rsaJWK(t, "rotated", &k.second.PublicKey, true))
	tok := sign(t, jwt.SigningMethodRS256, k.second, "rotated", e.v2Claims())
	if err := e.auth.Authenticate(request("Bearer " + tok)); err != nil {
		t.Fatalf("token signed with the new key: %v", err)
	}
	if got := e.entra.jwksHits.Load() - hits; got != 1 {
		t.Errorf("%d JWKS fetches, want 1", got)
	}
	// The new key is now known: another token signed with it fetches nothing.
	tok2 := sign(t, jwt.SigningMethodRS256, k.second, "rotated", e.v2Claims())
	if err := e.auth.Authenticate(request("Bearer " + tok2)); err != nil {
		t.Fatalf("second token signed with the new key: %v", err)
	}
	if got := e.entra.jwksHits.Load() - hits; got != 1 {
		t.Errorf("%d JWKS fetches after the second token, want still 1", got)
	}
}

func TestUnknownKidFlood(t *testing.T) {
	t.Parallel()
	e := newReadyEnv(t, nil)
	k := loadTestKeys()
	tokens := make([]string, 200)
	for i := range tokens {
		tokens[i] = sign(t, jwt.SigningMethodRS256, k.unpublished, fmt.Sprintf("forged-%d", i), e.v2Claims())
	}
	hits := e.entra.jwksHits.Load()

	var wg sync.WaitGroup
	errs := make([]error, len(tokens))
	for i, tok := range tokens {
		wg.Go(func() { errs[i] = e.auth.Authenticate(request("Bearer " + tok)) })
	}
	wg.Wait()

	for i, err := range errs {
		wantError(t, err, checkKid, http.StatusUnauthorized, tokens[i])
	}
	if got := e.entra.jwksHits.Load() - hits; got != 1 {
		t.Errorf("a flood of %d unknown kids caused %d JWKS fetches, want 1", len(tokens), got)
	}
}

func TestKeysDownAtStart(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(f *fakeEntra, _ *Options, _ *tuning) { f.down.Store(true) })
	tok := e.valid(t, nil)

	eventually(t, 5*time.Second, "a failed fetch", func() bool { return e.auth.keys.lastError() != nil })
	for range 3 {
		err := e.auth.Authenticate(request("Bearer " + tok))
		got := wantError(t, err, checkKeys, http.StatusServiceUnavailable, tok)
		if !strings.Contains(got.Detail, "503 Service Unavailable") {
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
	wantError(t, e.auth.Authenticate(request()), checkHeader, http.StatusUnauthorized, "")

	// The keys come back; the background retry picks them up while the
	// clock stands still, so no unknown-kid refresh can be what loads them.
	e.entra.down.Store(false)
	e.waitReady(t)
	if err := e.auth.Authenticate(request("Bearer " + tok)); err != nil {
		t.Fatalf("after the keys came back: %v", err)
	}
}

func TestRetryBacksOff(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(f *fakeEntra, _ *Options, tune *tuning) {
		f.down.Store(true)
		tune.retryMin = 10 * time.Millisecond
		tune.retryMax = time.Second
	})
	time.Sleep(300 * time.Millisecond)
	// Doubling from 10ms fetches at about 0, 10, 30, 70, 150 and 310ms;
	// without backoff it would be about 30 times.
	if n := e.entra.discoveryHits.Load(); n < 2 || n > 8 {
		t.Errorf("%d fetches in 300ms while down, want 2 to 8", n)
	}
}

func TestRequestWaitsAtMostMaxWait(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	const maxWait = 50 * time.Millisecond
	e := newEnv(t, func(f *fakeEntra, o *Options, _ *tuning) {
		f.block = release
		o.MaxWait = maxWait
	})
	tok := e.valid(t, nil)

	start := time.Now()
	err := e.auth.Authenticate(request("Bearer " + tok))
	took := time.Since(start)
	wantError(t, err, checkKeys, http.StatusServiceUnavailable, tok)
	if took < maxWait || took > maxWait+500*time.Millisecond {
		t.Errorf("Authenticate took %v, want about MaxWait (%v)", took, maxWait)
	}

	// The fetch the request gave up on carries on and serves the next one.
	close(release)
	e.waitReady(t)
	if err := e.auth.Authenticate(request("Bearer " + tok)); err != nil {
		t.Fatalf("after the fetch finished: %v", err)
	}
}

func TestEarlyRequestWaitsForTheFirstFetch(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	e := newEnv(t, func(f *fakeEntra, o *Options, _ *tuning) {
		f.block = release
		o.MaxWait = 5 * time.Second
	})
	good := e.valid(t, nil)
	// An issuer that only the discovery document could have vouched for.
	bad := e.valid(t, func(c jwt.MapClaims) { c["iss"] = e.entra.srv.URL + "/" + testTenant + "/v2.0/other" })
	go func() {
		time.Sleep(20 * time.Millisecond)
		close(release)
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
	wantError(t, badErr, checkIss, http.StatusUnauthorized, bad)
	if got := e.entra.jwksHits.Load(); got != 1 {
		t.Errorf("%d JWKS fetches, want 1 (requests join the start-up fetch)", got)
	}
}

func TestPeriodicRefresh(t *testing.T) {
	t.Parallel()
	e := newReadyEnv(t, func(_ *fakeEntra, _ *Options, tune *tuning) { tune.refreshEvery = 20 * time.Millisecond })
	k := loadTestKeys()
	e.entra.publish(rsaJWK(t, "rotated", &k.second.PublicKey, false))
	eventually(t, 5*time.Second, "the periodic refresh", func() bool {
		_, ok := lookup(e.auth.keys.current(), "rotated")
		return ok
	})
	if _, ok := lookup(e.auth.keys.current(), "main"); ok {
		t.Error("a key withdrawn from the JWKS is still used")
	}
}

func TestRefreshStopsWithContext(t *testing.T) {
	t.Parallel()
	f := newFakeEntra(t)
	tune := testTuning()
	tune.refreshEvery = 5 * time.Millisecond
	ctx, cancel := context.WithCancel(t.Context())
	env := map[string]string{"ENTRA_TENANT_ID": testTenant, "ENTRA_AUDIENCE": testAudience, "ENTRA_AUTHORITY": f.authority()}
	a, err := newAuthenticator(ctx, Options{Getenv: func(k string) string { return env[k] }}, tune)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "a few periodic refreshes", func() bool { return f.discoveryHits.Load() >= 3 })

	cancel()
	time.Sleep(20 * time.Millisecond) // let a fetch in flight finish
	hits := f.discoveryHits.Load()
	time.Sleep(50 * time.Millisecond) // ten refresh periods
	if got := f.discoveryHits.Load(); got != hits {
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
		prepare func(*fakeEntra)
		want    string
	}{
		{"issuer of another tenant", func(f *fakeEntra) {
			f.issuerOverride = "https://" + otherTenant + ".ciamlogin.com/" + otherTenant + "/v2.0"
		}, "does not name tenant " + testTenant},
		{"multi-tenant issuer template", func(f *fakeEntra) {
			f.issuerOverride = "https://login.microsoftonline.com/{tenantid}/v2.0"
		}, "does not name tenant"},
		{"jwks_uri over plain http", func(f *fakeEntra) { f.jwksURI = "http://keys.example/keys" }, "use https"},
		{"jwks_uri relative", func(f *fakeEntra) { f.jwksURI = "/keys" }, "not an absolute URL"},
		{"no usable key", func(f *fakeEntra) { f.keys = f.keys[1:] }, "no RSA key that may verify RS256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(f *fakeEntra, _ *Options, _ *tuning) { tt.prepare(f) })
			eventually(t, 5*time.Second, "a failed fetch", func() bool { return e.auth.keys.lastError() != nil })
			if err := e.auth.keys.lastError(); !strings.Contains(err.Error(), tt.want) {
				t.Errorf("fetch error %q, want it to contain %q", err, tt.want)
			}
			if e.auth.Ready() {
				t.Error("Ready() = true")
			}
			tok := e.valid(t, nil)
			wantError(t, e.auth.Authenticate(request("Bearer "+tok)), checkKeys, http.StatusServiceUnavailable, tok)
		})
	}
}
