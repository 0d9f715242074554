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
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The identities of the fake tenant. The caller is the real application id
// of Microsoft's authentication events service: the gate checks it.
const (
	TenantID = "7d1c0b6e-1111-4a2b-9c3d-0a0b0c0d0e0f"
	Audience = "c0ffee00-1234-4abc-9def-00112233aabb"
	callerID = "99045fe1-7639-4a75-9d4a-577b6ca3810f"
	keyID    = "bench-key"
)

// Tenant is a fake Microsoft Entra tenant on 127.0.0.1: it serves an OpenID
// discovery document and a JWKS with one RSA key, and signs tokens with
// that key the way Entra signs the tokens it sends to a custom
// authentication extension.
type Tenant struct {
	key  *rsa.PrivateKey
	srv  *http.Server
	base string // http://127.0.0.1:port

	down       atomic.Bool // answer discovery and JWKS with 503
	jwksServed atomic.Int64
}

// StartTenant mints a 2048-bit RSA key and serves the tenant on a free
// loopback port until Close.
func StartTenant() (*Tenant, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	t := &Tenant{key: key, base: "http://" + ln.Addr().String()}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /"+TenantID+"/v2.0/.well-known/openid-configuration", t.serveDiscovery)
	mux.HandleFunc("GET /"+TenantID+"/discovery/v2.0/keys", t.serveKeys)
	t.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go t.srv.Serve(ln)
	return t, nil
}

// Close stops serving.
func (t *Tenant) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return t.srv.Shutdown(ctx)
}

// Authority is what ENTRA_AUTHORITY must be set to; it is also the issuer.
func (t *Tenant) Authority() string { return t.base + "/" + TenantID + "/v2.0" }

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
func (t *Tenant) SetDown(down bool) { t.down.Store(down) }

// KeyFetches returns how many times the JWKS was served.
func (t *Tenant) KeyFetches() int64 { return t.jwksServed.Load() }

func (t *Tenant) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	if t.down.Load() {
		http.Error(w, "tenant down", http.StatusServiceUnavailable)
		return
	}
	writeJSON(w, map[string]string{
		"issuer":   t.Authority(),
		"jwks_uri": t.base + "/" + TenantID + "/discovery/v2.0/keys",
	})
}

func (t *Tenant) serveKeys(w http.ResponseWriter, r *http.Request) {
	if t.down.Load() {
		http.Error(w, "tenant down", http.StatusServiceUnavailable)
		return
	}
	t.jwksServed.Add(1)
	b64 := base64.RawURLEncoding.EncodeToString
	writeJSON(w, map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "use": "sig", "kid": keyID,
		"n": b64(t.key.N.Bytes()), "e": b64(big.NewInt(int64(t.key.E)).Bytes()),
	}}})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// Token returns a valid v2 access token, as Entra's authentication events
// service presents it, that expires after ttl. Tokens minted with
// different n differ, so a handful of them exercise the gate's token cache
// the way a few Entra instances would.
func (t *Tenant) Token(n int, ttl time.Duration) (string, error) {
	now := time.Now()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"aud": Audience, "iss": t.Authority(), "azp": callerID, "azpacr": "2", "tid": TenantID, "ver": "2.0",
		"iat": now.Add(-time.Minute).Unix(), "nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(ttl).Unix(),
		"uti": fmt.Sprintf("bench-%d", n), "roles": []string{"customauthenticationextension.api.endpoint"},
	})
	tok.Header["kid"] = keyID
	return tok.SignedString(t.key)
}
