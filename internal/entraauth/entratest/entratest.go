// Package entratest provides a fake Microsoft Entra tenant for tests, in
// the manner of net/http/httptest: a real HTTP server on loopback that
// publishes an OpenID discovery document and a JWKS of real RSA keys, and
// a minter of bearer tokens signed the way Entra signs the tokens it sends
// to a custom authentication extension.
//
// It is the one fake of Entra in this module; every test that needs a
// tenant uses it, so the fakes cannot drift apart. Beyond serving, a
// Tenant can rotate its keys, go down (503), hold key fetches, serve a
// tampered discovery document, and count the fetches it received.
//
// Nothing here is part of the deployed app.
package entratest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/invitegate/invitegate/internal/entraauth"
)

// The identities a Tenant uses unless told otherwise: its tenant id, and
// the client id of the extension's app registration that tokens are
// minted for. Tokens are requested by the real authentication events
// service, entraauth.EventsAppID.
const (
	TenantID = "7d1c0b6e-1111-4a2b-9c3d-0a0b0c0d0e0f"
	Audience = "c0ffee00-1234-4abc-9def-00112233aabb"
)

// Tenant is a fake Microsoft Entra tenant served over plain http on
// 127.0.0.1. Its methods are safe for concurrent use.
type Tenant struct {
	// ID is the tenant's id, a lower-case GUID.
	ID string

	// URL is the server's base URL, http://127.0.0.1:{port}.
	URL string

	srv *httptest.Server
	now func() time.Time

	discoveryFetches atomic.Int64
	jwksFetches      atomic.Int64
	down             atomic.Bool

	mu      sync.Mutex
	keys    []signingKey     // published; the last one signs tokens
	extra   []map[string]any // published after keys, as given
	issuer  string           // the discovery document's issuer; "" means Authority()
	jwksURI string           // the discovery document's jwks_uri; "" means JWKSURL()
	hold    chan struct{}    // while not nil, JWKS requests wait for it to close
}

type signingKey struct {
	kid string
	key *rsa.PrivateKey
	jwk map[string]any
}

// TenantOption configures NewTenant.
type TenantOption func(*tenantConfig)

type tenantConfig struct {
	id  string
	kid string
	key *rsa.PrivateKey
	now func() time.Time
}

// WithTenantID gives the tenant another id than TenantID.
func WithTenantID(id string) TenantOption { return func(c *tenantConfig) { c.id = id } }

// WithKey makes key, published as kid, the tenant's first signing key
// instead of a freshly generated one. Generating a 2048-bit key takes
// tens of milliseconds, so tests that start many tenants share one key;
// tests of forgery start a tenant without it.
func WithKey(kid string, key *rsa.PrivateKey) TenantOption {
	return func(c *tenantConfig) { c.kid, c.key = kid, key }
}

// WithClock sets the clock that minted tokens' iat, nbf and exp follow;
// the default is time.Now.
func WithClock(now func() time.Time) TenantOption { return func(c *tenantConfig) { c.now = now } }

// NewTenant starts a tenant with one signing key. Like httptest.NewServer
// it panics if it cannot listen, and the caller must Close it.
func NewTenant(opts ...TenantOption) *Tenant {
	c := tenantConfig{id: TenantID, kid: "key-1", now: time.Now}
	for _, o := range opts {
		o(&c)
	}
	if c.key == nil {
		c.key = newKey()
	}
	t := &Tenant{ID: c.id, now: c.now}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /"+c.id+"/v2.0/.well-known/openid-configuration", t.serveDiscovery)
	mux.HandleFunc("GET /"+c.id+"/discovery/v2.0/keys", t.serveJWKS)
	// Everything the handlers read is set before the server starts: the
	// race detector does not count a request over the network as ordering
	// a later write before the handler's read.
	t.keys = []signingKey{t.signingKey(c.kid, c.key)}
	t.srv = httptest.NewUnstartedServer(mux)
	t.URL = "http://" + t.srv.Listener.Addr().String()
	t.srv.Start()
	return t
}

// Close stops the server. Tokens can still be minted afterwards, which is
// how a test gets tokens of a tenant the gate has never heard of.
func (t *Tenant) Close() { t.srv.Close() }

// Authority is the tenant's authority, the URL that
// /.well-known/openid-configuration is appended to: what ENTRA_AUTHORITY
// must be set to.
func (t *Tenant) Authority() string { return t.URL + "/" + t.ID + "/v2.0" }

// DiscoveryURL is the address of the OpenID discovery document.
func (t *Tenant) DiscoveryURL() string { return t.Authority() + "/.well-known/openid-configuration" }

// JWKSURL is the address of the key set.
func (t *Tenant) JWKSURL() string { return t.URL + "/" + t.ID + "/discovery/v2.0/keys" }

// Issuer is the issuer the discovery document names, and that minted
// tokens carry unless WithIssuer says otherwise: the Authority, unless
// SetIssuer changed it.
func (t *Tenant) Issuer() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.issuerLocked()
}

func (t *Tenant) issuerLocked() string {
	if t.issuer != "" {
		return t.issuer
	}
	return t.Authority()
}

// Config is an entraauth.Config (jwt mode) that trusts this tenant, for
// tokens minted for Audience.
func (t *Tenant) Config() entraauth.Config {
	return entraauth.Config{Mode: entraauth.ModeJWT, TenantID: t.ID, Audience: Audience, Authority: t.Authority()}
}

// Settings are the function app settings that make the handler trust this
// tenant, as Config says: ENTRA_AUTH, ENTRA_TENANT_ID, ENTRA_AUDIENCE and
// ENTRA_AUTHORITY.
func (t *Tenant) Settings() map[string]string {
	return map[string]string{
		"ENTRA_AUTH":      string(entraauth.ModeJWT),
		"ENTRA_TENANT_ID": t.ID,
		"ENTRA_AUDIENCE":  Audience,
		"ENTRA_AUTHORITY": t.Authority(),
	}
}

// KeyID is the kid of the key that signs minted tokens.
func (t *Tenant) KeyID() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.keys[len(t.keys)-1].kid
}

// Rotate generates a new signing key with a new kid, publishes it, and
// signs minted tokens with it from now on. With keepOld the earlier keys
// stay published, as Entra keeps a key for a while after rotating;
// without it they are withdrawn at once. It returns the new kid.
func (t *Tenant) Rotate(keepOld bool) string {
	key := newKey()
	t.mu.Lock()
	defer t.mu.Unlock()
	kid := fmt.Sprintf("key-%d", len(t.keys)+1)
	for slices.ContainsFunc(t.keys, func(k signingKey) bool { return k.kid == kid }) {
		kid += "x"
	}
	k := t.signingKey(kid, key)
	if keepOld {
		t.keys = append(t.keys, k)
	} else {
		t.keys = []signingKey{k}
	}
	return kid
}

// Withdraw stops publishing every key, signing or extra, with the given
// kid. Minted tokens are still signed with the current key, published or
// not.
func (t *Tenant) Withdraw(kid string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.keys) == 1 && t.keys[0].kid == kid {
		t.keys[0].jwk = nil // keep signing with it, publish nothing
	} else {
		t.keys = slices.DeleteFunc(t.keys, func(k signingKey) bool { return k.kid == kid })
	}
	t.extra = slices.DeleteFunc(t.extra, func(m map[string]any) bool { return m["kid"] == kid })
}

// PublishJWK adds jwk, as given, to the published key set: an EC key, an
// encryption key, a broken one. RSAJWK builds an RSA one.
func (t *Tenant) PublishJWK(jwk map[string]any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.extra = append(t.extra, jwk)
}

// SetIssuer makes the discovery document (and minted tokens) name issuer;
// "" restores the Authority.
func (t *Tenant) SetIssuer(issuer string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.issuer = issuer
}

// SetJWKSURI makes the discovery document point at uri for the keys; ""
// restores JWKSURL.
func (t *Tenant) SetJWKSURI(uri string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.jwksURI = uri
}

// Down makes the discovery document and the key set answer 503 (true),
// or serve again (false).
func (t *Tenant) Down(down bool) { t.down.Store(down) }

// Hold makes key set requests wait until release is called (or the
// client gives up), to test what happens while a fetch is slow. Calling
// release more than once is harmless.
func (t *Tenant) Hold() (release func()) {
	ch := make(chan struct{})
	t.mu.Lock()
	t.hold = ch
	t.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			t.mu.Lock()
			if t.hold == ch {
				t.hold = nil
			}
			t.mu.Unlock()
			close(ch)
		})
	}
}

// DiscoveryFetches counts the requests for the discovery document,
// including those answered 503 while Down.
func (t *Tenant) DiscoveryFetches() int64 { return t.discoveryFetches.Load() }

// JWKSFetches counts the requests for the key set, including those
// answered 503 while Down.
func (t *Tenant) JWKSFetches() int64 { return t.jwksFetches.Load() }

func (t *Tenant) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	t.discoveryFetches.Add(1)
	if t.down.Load() {
		http.Error(w, "tenant down", http.StatusServiceUnavailable)
		return
	}
	t.mu.Lock()
	iss, uri := t.issuerLocked(), t.jwksURI
	t.mu.Unlock()
	if uri == "" {
		uri = t.JWKSURL()
	}
	// The fields Entra's document has that a client might read.
	writeJSON(w, map[string]any{
		"issuer":                                iss,
		"jwks_uri":                              uri,
		"authorization_endpoint":                t.Authority() + "/oauth2/v2.0/authorize",
		"token_endpoint":                        t.Authority() + "/oauth2/v2.0/token",
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"tenant_region_scope":                   "EU",
	})
}

func (t *Tenant) serveJWKS(w http.ResponseWriter, r *http.Request) {
	t.jwksFetches.Add(1)
	if t.down.Load() {
		http.Error(w, "tenant down", http.StatusServiceUnavailable)
		return
	}
	t.mu.Lock()
	hold := t.hold
	keys := make([]map[string]any, 0, len(t.keys)+len(t.extra))
	for _, k := range t.keys {
		if k.jwk != nil {
			keys = append(keys, k.jwk)
		}
	}
	keys = append(keys, t.extra...)
	t.mu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-r.Context().Done():
			return
		}
	}
	writeJSON(w, map[string]any{"keys": keys})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}

// signingKey builds the JWK of key as Entra publishes its keys: with the
// self-signed certificate (x5c, x5t) and the non-standard issuer field.
func (t *Tenant) signingKey(kid string, key *rsa.PrivateKey) signingKey {
	m := RSAJWK(kid, &key.PublicKey)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "accounts.accesscontrol.windows.net"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(5 * 365 * 24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic("entratest: self-signing a certificate: " + err.Error())
	}
	sum := sha1.Sum(der)
	m["x5t"] = b64(sum[:])
	m["x5c"] = []string{base64.StdEncoding.EncodeToString(der)}
	m["issuer"] = t.Authority()
	return signingKey{kid: kid, key: key, jwk: m}
}

// RSAJWK is pub as a JWK for signatures (kty RSA, use sig) named kid,
// without alg, as Entra publishes its keys.
func RSAJWK(kid string, pub *rsa.PublicKey) map[string]any {
	return map[string]any{
		"kty": "RSA", "use": "sig", "kid": kid,
		"n": b64(pub.N.Bytes()), "e": b64(big.NewInt(int64(pub.E)).Bytes()),
	}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func newKey() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic("entratest: generating an RSA key: " + err.Error())
	}
	return k
}
