package entratest_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/invitegate/invitegate/internal/entraauth"
	"github.com/invitegate/invitegate/internal/entraauth/entratest"
)

// ExampleTenant starts a tenant, points an Authenticator at it, and
// presents a token minted by it, then one minted for another audience.
func ExampleTenant() {
	tenant := entratest.NewTenant()
	defer tenant.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	auth, err := entraauth.New(ctx, tenant.Config(), entraauth.Options{})
	if err != nil {
		panic(err)
	}
	if err := auth.WaitReady(ctx); err != nil {
		panic(err)
	}

	for _, tok := range []string{tenant.Token(), tenant.Token(entratest.WithAudience("0badbad0-3333-4ddd-8eee-0123456789ab"))} {
		r := httptest.NewRequest("POST", "/api/attributeStart", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		var e *entraauth.Error
		if err := auth.Authenticate(r); errors.As(err, &e) {
			fmt.Println("refused:", e.Check())
		} else {
			fmt.Println("accepted")
		}
	}
	fmt.Println("key set fetched", tenant.JWKSFetches(), "time")
	// Output:
	// accepted
	// refused: audience
	// key set fetched 1 time
}

// key is shared by the tests that need no key of their own.
var key = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

func newTenant(t *testing.T, opts ...entratest.TenantOption) *entratest.Tenant {
	t.Helper()
	tn := entratest.NewTenant(append([]entratest.TenantOption{entratest.WithKey("k1", key())}, opts...)...)
	t.Cleanup(tn.Close)
	return tn
}

func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode
}

type discovery struct {
	Issuer  string `json:"issuer"`
	JWKSURI string `json:"jwks_uri"`
}

type jwks struct {
	Keys []map[string]any `json:"keys"`
}

// publicKeys reads the served key set the way a client would, without
// entraauth: kid to RSA public key.
func publicKeys(t *testing.T, tn *entratest.Tenant) map[string]*rsa.PublicKey {
	t.Helper()
	var d discovery
	if code := getJSON(t, tn.DiscoveryURL(), &d); code != http.StatusOK {
		t.Fatalf("discovery: %d", code)
	}
	var set jwks
	if code := getJSON(t, d.JWKSURI, &set); code != http.StatusOK {
		t.Fatalf("JWKS: %d", code)
	}
	keys := map[string]*rsa.PublicKey{}
	for _, k := range set.Keys {
		if k["kty"] != "RSA" {
			continue
		}
		n, err1 := base64.RawURLEncoding.DecodeString(k["n"].(string))
		e, err2 := base64.RawURLEncoding.DecodeString(k["e"].(string))
		if err1 != nil || err2 != nil {
			t.Fatalf("key %v: %v %v", k["kid"], err1, err2)
		}
		keys[k["kid"].(string)] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	}
	return keys
}

// verify checks tok's RS256 signature against keys and returns its claims.
func verify(t *testing.T, tok string, keys map[string]*rsa.PublicKey) (jwt.MapClaims, error) {
	t.Helper()
	c := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(tok, c, func(tk *jwt.Token) (any, error) {
		kid, _ := tk.Header["kid"].(string)
		if k, ok := keys[kid]; ok {
			return k, nil
		}
		return nil, fmt.Errorf("no key %q", kid)
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithoutClaimsValidation())
	return c, err
}

func TestDiscoveryAndDefaultToken(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	tn := newTenant(t, entratest.WithClock(func() time.Time { return now }))
	var d discovery
	getJSON(t, tn.DiscoveryURL(), &d)
	if d.Issuer != tn.Authority() || d.Issuer != tn.Issuer() || d.JWKSURI != tn.JWKSURL() {
		t.Errorf("discovery %+v, want issuer %s and jwks_uri %s", d, tn.Authority(), tn.JWKSURL())
	}
	if tn.DiscoveryFetches() != 1 {
		t.Errorf("DiscoveryFetches() = %d, want 1", tn.DiscoveryFetches())
	}
	c, err := verify(t, tn.Token(), publicKeys(t, tn))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"aud": entratest.Audience, "iss": tn.Authority(), "tid": entratest.TenantID, "azp": entraauth.EventsAppID,
		"ver": "2.0", "nbf": float64(now.Add(-time.Minute).Unix()), "exp": float64(now.Add(time.Hour).Unix()),
	}
	for k, v := range want {
		if c[k] != v {
			t.Errorf("claim %s = %v, want %v", k, c[k], v)
		}
	}
	if cfg := tn.Config(); cfg.Validate() != nil || cfg.Authority != tn.Authority() || cfg.TenantID != tn.ID {
		t.Errorf("Config() = %+v (%v)", cfg, cfg.Validate())
	}
	if s := tn.Settings(); s["ENTRA_AUTHORITY"] != tn.Authority() || s["ENTRA_AUDIENCE"] != entratest.Audience {
		t.Errorf("Settings() = %v", s)
	}
}

func TestTokenOptions(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	tn := newTenant(t, entratest.WithTenantID("0badbad0-2222-4bbb-8ccc-0123456789ab"), entratest.WithClock(func() time.Time { return now }))
	keys := publicKeys(t, tn)

	c, err := verify(t, tn.Token(
		entratest.WithIssuer("https://contoso.ciamlogin.com/x/v2.0"), entratest.WithAudience("aud"), entratest.WithTenant("tid"),
		entratest.WithAzp("azp"), entratest.WithAppID("appid"), entratest.WithVersion("1.0"),
		entratest.WithExpiry(now.Add(time.Minute)), entratest.WithNotBefore(now.Add(time.Second)),
		entratest.WithClaim("roles", []string{"r"}), entratest.WithoutClaims("sub", "oid"),
	), keys)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"iss": "https://contoso.ciamlogin.com/x/v2.0", "aud": "aud", "tid": "tid", "azp": "azp", "appid": "appid",
		"ver": "1.0", "exp": float64(now.Add(time.Minute).Unix()), "nbf": float64(now.Add(time.Second).Unix())}
	for k, v := range want {
		if c[k] != v {
			t.Errorf("claim %s = %v, want %v", k, c[k], v)
		}
	}
	if _, ok := c["sub"]; ok {
		t.Error("WithoutClaims left sub")
	}

	c, err = verify(t, tn.Token(entratest.V1("fn.example")), keys)
	if err != nil {
		t.Fatal(err)
	}
	if c["ver"] != "1.0" || c["iss"] != "https://sts.windows.net/"+tn.ID+"/" || c["aud"] != "api://fn.example/"+entratest.Audience ||
		c["appid"] != entraauth.EventsAppID || c["azp"] != nil {
		t.Errorf("V1 claims %v", c)
	}

	// Header options.
	header := func(tok string) map[string]any {
		tk, _, err := jwt.NewParser().ParseUnverified(tok, jwt.MapClaims{})
		if err != nil {
			t.Fatal(err)
		}
		return tk.Header
	}
	if h := header(tn.Token(entratest.WithKID("other"))); h["kid"] != "other" {
		t.Errorf("WithKID: header %v", h)
	}
	if h := header(tn.Token(entratest.WithKID(""))); h["kid"] != nil {
		t.Errorf("WithKID(\"\"): header %v", h)
	}
	for _, alg := range []string{"RS384", "PS256", "HS256", "none"} {
		if h := header(tn.Token(entratest.WithAlg(alg))); h["alg"] != alg {
			t.Errorf("WithAlg(%s): header %v", alg, h)
		}
	}
	// A forgery names the tenant's kid but does not verify with its key.
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := verify(t, tn.Token(entratest.SignedWith(other)), keys); !errors.Is(err, jwt.ErrTokenSignatureInvalid) {
		t.Errorf("SignedWith: %v, want an invalid signature", err)
	}
}

func TestRotate(t *testing.T) {
	t.Parallel()
	tn := newTenant(t)
	old := tn.Token()

	kid := tn.Rotate(true)
	if kid == "k1" || tn.KeyID() != kid {
		t.Fatalf("Rotate(true) = %q, KeyID() = %q", kid, tn.KeyID())
	}
	keys := publicKeys(t, tn)
	if len(keys) != 2 {
		t.Fatalf("after Rotate(true): keys %v, want k1 and %s", keys, kid)
	}
	for _, tok := range []string{old, tn.Token()} {
		if _, err := verify(t, tok, keys); err != nil {
			t.Errorf("with the old key kept: %v", err)
		}
	}

	kid3 := tn.Rotate(false)
	keys = publicKeys(t, tn)
	if _, ok := keys[kid3]; !ok || len(keys) != 1 {
		t.Fatalf("after Rotate(false): keys %v, want only %s", keys, kid3)
	}
	if _, err := verify(t, old, keys); err == nil {
		t.Error("a token of a withdrawn key still verifies")
	}
	if _, err := verify(t, tn.Token(), keys); err != nil {
		t.Error(err)
	}
}

func TestPublishAndWithdraw(t *testing.T) {
	t.Parallel()
	tn := newTenant(t)
	tn.PublishJWK(map[string]any{"kty": "oct", "kid": "sym", "k": "c2VjcmV0"})
	var set jwks
	getJSON(t, tn.JWKSURL(), &set)
	if len(set.Keys) != 2 || set.Keys[1]["kid"] != "sym" {
		t.Fatalf("keys %v, want k1 then sym", set.Keys)
	}
	if set.Keys[0]["x5c"] == nil || set.Keys[0]["use"] != "sig" {
		t.Errorf("the signing key lacks what Entra publishes: %v", set.Keys[0])
	}
	tn.Withdraw("k1")
	tn.Withdraw("sym")
	set = jwks{}
	getJSON(t, tn.JWKSURL(), &set)
	if len(set.Keys) != 0 {
		t.Errorf("after Withdraw: keys %v, want none", set.Keys)
	}
	if tn.Token() == "" {
		t.Error("no token after the key was withdrawn")
	}

	tn.SetIssuer("https://example.test/iss")
	tn.SetJWKSURI("https://example.test/keys")
	var d discovery
	getJSON(t, tn.DiscoveryURL(), &d)
	if d.Issuer != "https://example.test/iss" || d.JWKSURI != "https://example.test/keys" {
		t.Errorf("discovery %+v after SetIssuer and SetJWKSURI", d)
	}
}

func TestDownAndCounts(t *testing.T) {
	t.Parallel()
	tn := newTenant(t)
	tn.Down(true)
	var d discovery
	if code := getJSON(t, tn.DiscoveryURL(), &d); code != http.StatusServiceUnavailable {
		t.Errorf("discovery while down: %d, want 503", code)
	}
	if code := getJSON(t, tn.JWKSURL(), &jwks{}); code != http.StatusServiceUnavailable {
		t.Errorf("JWKS while down: %d, want 503", code)
	}
	tn.Down(false)
	if code := getJSON(t, tn.JWKSURL(), &jwks{}); code != http.StatusOK {
		t.Errorf("JWKS after down: %d, want 200", code)
	}
	if tn.DiscoveryFetches() != 1 || tn.JWKSFetches() != 2 {
		t.Errorf("fetches: discovery %d, JWKS %d; want 1 and 2", tn.DiscoveryFetches(), tn.JWKSFetches())
	}
}

func TestHold(t *testing.T) {
	t.Parallel()
	tn := newTenant(t)
	release := tn.Hold()
	done := make(chan int)
	go func() {
		resp, err := http.Get(tn.JWKSURL())
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	select {
	case code := <-done:
		t.Fatalf("a held JWKS request answered %d", code)
	case <-time.After(50 * time.Millisecond):
	}
	release()
	release()
	if code := <-done; code != http.StatusOK {
		t.Errorf("after release: %d", code)
	}
}
