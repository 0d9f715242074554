package entraauth

import (
	"context"
	"time"
)

// This file lends the external tests (package entraauth_test, which may
// import entratest) the internals they need.

// ClockSkew is the leeway for exp and nbf.
const ClockSkew = clockSkew

// Tuning is tuning with exported fields.
type Tuning struct {
	RefreshEvery, RefreshFloor, RetryMin, RetryMax, FetchTimeout, NoKeysLogEvery time.Duration
	CacheSize                                                                    int
}

// DefaultTuning is defaultTuning.
func DefaultTuning() Tuning {
	d := defaultTuning()
	return Tuning{d.refreshEvery, d.refreshFloor, d.retryMin, d.retryMax, d.fetchTimeout, d.noKeysLogEvery, d.cacheSize}
}

// NewWithTuning is New with other timings.
func NewWithTuning(ctx context.Context, cfg Config, o Options, t Tuning) (*Authenticator, error) {
	return newAuthenticator(ctx, cfg, o, tuning{
		refreshEvery: t.RefreshEvery, refreshFloor: t.RefreshFloor, retryMin: t.RetryMin, retryMax: t.RetryMax,
		fetchTimeout: t.FetchTimeout, noKeysLogEvery: t.NoKeysLogEvery, cacheSize: t.CacheSize,
	})
}

// Verifies counts RSA signature verifications.
func (a *Authenticator) Verifies() int64 { return a.verifies.Load() }

// LastFetchError is why the latest key fetch failed, or nil.
func (a *Authenticator) LastFetchError() error { return a.keys.lastError() }

// HasKey reports whether the loaded keys include kid.
func (a *Authenticator) HasKey(kid string) bool {
	_, ok := lookup(a.keys.current(), kid)
	return ok
}

// Refresh fetches the keys now and waits for the result.
func (a *Authenticator) Refresh(ctx context.Context) error {
	f := a.keys.refresh()
	select {
	case <-f.done:
		return f.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Settings returns the resolved tenant, audience and authority.
func (a *Authenticator) Settings() (tenant, audience, authority string) {
	return a.set.tenant, a.set.audience, a.set.authority
}
