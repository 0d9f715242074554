// Package bench drives the gate the way Microsoft Entra does: a fake Entra
// tenant that publishes signing keys and mints bearer tokens, Entra request
// bodies (built through package graph), an open-loop load generator and
// latency statistics. The process runner is internal/testutil/handlerproc.
//
// scripts/bench.sh uses it through scripts/benchgate, and the end-to-end
// tests in internal/e2e use it directly. Nothing here is part of the
// deployed app, and everything listens on 127.0.0.1 only.
package bench

import (
	"fmt"
	"time"

	"github.com/invitegate/invitegate/internal/entraauth/entratest"
)

// The identities of the fake tenant. Its tokens are requested by the real
// application id of Microsoft's authentication events service
// (entraauth.EventsAppID): the gate checks it.
const (
	TenantID = entratest.TenantID
	Audience = entratest.Audience
)

// Tenant is a fake Microsoft Entra tenant on 127.0.0.1 (an
// entratest.Tenant): it serves an OpenID discovery document and a JWKS
// with one RSA key, and signs tokens with that key the way Entra signs the
// tokens it sends to a custom authentication extension.
type Tenant struct {
	t *entratest.Tenant
}

// StartTenant mints a 2048-bit RSA key and serves the tenant on a free
// loopback port until Close.
func StartTenant() (tenant *Tenant, err error) {
	defer func() {
		if r := recover(); r != nil { // entratest panics, like httptest, if it cannot listen
			tenant, err = nil, fmt.Errorf("starting the fake tenant: %v", r)
		}
	}()
	return &Tenant{t: entratest.NewTenant()}, nil
}

// Close stops serving.
func (t *Tenant) Close() error {
	t.t.Close()
	return nil
}

// Authority is what ENTRA_AUTHORITY must be set to; it is also the issuer.
func (t *Tenant) Authority() string { return t.t.Authority() }

// Env returns the handler settings that make it trust this tenant.
func (t *Tenant) Env() []string {
	return []string{
		"ENTRA_AUTH=jwt",
		"ENTRA_TENANT_ID=" + TenantID,
		"ENTRA_AUDIENCE=" + Audience,
		"ENTRA_AUTHORITY=" + t.Authority(),
	}
}

// SetDown makes discovery and JWKS answer 503 (down) or serve again.
func (t *Tenant) SetDown(down bool) { t.t.Down(down) }

// KeyFetches returns how many times the JWKS was requested. While the
// tenant is down the discovery document already fails, so a client never
// gets as far as the JWKS.
func (t *Tenant) KeyFetches() int64 { return t.t.JWKSFetches() }

// Token returns a valid v2 access token, as Entra's authentication events
// service presents it, that expires after ttl. Tokens minted with
// different n differ, so a handful of them exercise the gate's token cache
// the way a few Entra instances would.
func (t *Tenant) Token(n int, ttl time.Duration) (string, error) {
	return t.t.Token(
		entratest.WithExpiry(time.Now().Add(ttl)),
		entratest.WithClaim("uti", fmt.Sprintf("bench-%d", n)),
	), nil
}
