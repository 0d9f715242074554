package entraauth

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
	"github.com/rs/zerolog"
)

const (
	testTenant   = "7d1c0b6e-1111-4a2b-9c3d-0a0b0c0d0e0f"
	testAudience = "c0ffee00-1234-4abc-9def-00112233aabb"
	otherTenant  = "0badbad0-2222-4bbb-8ccc-0123456789ab"
	otherApp     = "0badbad0-3333-4ddd-8eee-0123456789ab"
)

// testKeys are minted once per test binary (RSA generation is slow) and
// never changed.
type testKeys struct {
	main, second, unpublished, small *rsa.PrivateKey
	ec                               *ecdsa.PrivateKey
}

var loadTestKeys = sync.OnceValue(func() testKeys {
	gen := func(bits int) *rsa.PrivateKey {
		k, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			panic(err)
		}
		return k
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return testKeys{main: gen(2048), second: gen(2048), unpublished: gen(2048), small: gen(1024), ec: ec}
})

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fakeEntra serves a tenant's discovery document and JWKS over loopback
// http, and counts the fetches.
type fakeEntra struct {
	srv    *httptest.Server
	issuer string // what discovery says, unless issuerOverride is set

	discoveryHits atomic.Int64
	jwksHits      atomic.Int64
	down          atomic.Bool // answer discovery with 503

	mu             sync.Mutex
	keys           []map[string]any
	issuerOverride string
	jwksURI        string        // overrides the served jwks_uri
	block          chan struct{} // when set, the JWKS handler waits for it
}

func newFakeEntra(t testing.TB) *fakeEntra {
	t.Helper()
	f := &fakeEntra{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /"+testTenant+"/v2.0/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		f.discoveryHits.Add(1)
		if f.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		f.mu.Lock()
		iss, uri := f.issuer, f.srv.URL+"/"+testTenant+"/discovery/v2.0/keys"
		if f.issuerOverride != "" {
			iss = f.issuerOverride
		}
		if f.jwksURI != "" {
			uri = f.jwksURI
		}
		f.mu.Unlock()
		writeJSON(w, map[string]any{"issuer": iss, "jwks_uri": uri, "id_token_signing_alg_values_supported": []string{"RS256"}})
	})
	mux.HandleFunc("GET /"+testTenant+"/discovery/v2.0/keys", func(w http.ResponseWriter, r *http.Request) {
		f.jwksHits.Add(1)
		f.mu.Lock()
		block, keys := f.block, f.keys
		f.mu.Unlock()
		if block != nil {
			select {
			case <-block:
			case <-r.Context().Done():
				return
			}
		}
		writeJSON(w, map[string]any{"keys": keys})
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	f.issuer = f.srv.URL + "/" + testTenant + "/v2.0"

	k := loadTestKeys()
	f.publish(
		rsaJWK(t, "main", &k.main.PublicKey, true),
		ecJWK(t, "ec", &k.ec.PublicKey),
		withField(rsaJWK(t, "rs512", &k.second.PublicKey, false), "alg", "RS512"),
		withField(rsaJWK(t, "enc", &k.second.PublicKey, false), "use", "enc"),
		rsaJWK(t, "small", &k.small.PublicKey, false),
		map[string]any{"kty": "RSA", "kid": "broken", "use": "sig", "n": "!!!", "e": "AQAB"},
		map[string]any{"kty": "oct", "kid": "oct", "k": "c2VjcmV0"},
	)
	return f
}

func (f *fakeEntra) authority() string { return f.srv.URL + "/" + testTenant + "/v2.0" }

// publish replaces the served JWKS.
func (f *fakeEntra) publish(keys ...map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys = keys
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// rsaJWK is pub as Entra publishes it; withCert adds the x5c and x5t that
// Entra's keys carry, and Entra's non-standard issuer field.
func rsaJWK(t testing.TB, kid string, pub *rsa.PublicKey, withCert bool) map[string]any {
	m := map[string]any{
		"kty": "RSA", "use": "sig", "kid": kid,
		"n": b64(pub.N.Bytes()), "e": b64(big.NewInt(int64(pub.E)).Bytes()),
	}
	if withCert {
		k := loadTestKeys()
		var priv *rsa.PrivateKey
		for _, p := range []*rsa.PrivateKey{k.main, k.second, k.unpublished} {
			if p.PublicKey.Equal(pub) {
				priv = p
			}
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "accounts.accesscontrol.windows.net"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha1.Sum(der)
		m["x5c"] = []string{base64.StdEncoding.EncodeToString(der)}
		m["x5t"] = b64(sum[:])
		m["issuer"] = "https://login.microsoftonline.com/" + testTenant + "/v2.0"
	}
	return m
}

func ecJWK(t testing.TB, kid string, pub *ecdsa.PublicKey) map[string]any {
	j, err := jwkset.NewJWKFromKey(pub, jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{KID: kid, USE: jwkset.UseSig}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(j.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func withField(m map[string]any, k string, v any) map[string]any {
	m[k] = v
	return m
}

// env is an Authenticator in jwt mode in front of a fakeEntra.
type env struct {
	entra *fakeEntra
	clock *clock
	auth  *Authenticator
	logs  *syncBuffer
}

func testTuning() tuning {
	t := defaultTuning()
	t.retryMin = 10 * time.Millisecond
	t.retryMax = 40 * time.Millisecond
	t.fetchTimeout = 5 * time.Second
	return t
}

// newReadyEnv is newEnv, once the keys have loaded.
func newReadyEnv(t testing.TB, prepare func(*fakeEntra, *Options, *tuning)) *env {
	t.Helper()
	e := newEnv(t, prepare)
	e.waitReady(t)
	return e
}

// newEnv starts an Authenticator against a fresh fakeEntra; prepare, when
// not nil, may change the fake, the options and the timings first.
func newEnv(t testing.TB, prepare func(*fakeEntra, *Options, *tuning)) *env {
	t.Helper()
	e := &env{entra: newFakeEntra(t), clock: newClock(), logs: &syncBuffer{}}
	settings := map[string]string{
		"ENTRA_TENANT_ID": testTenant,
		"ENTRA_AUDIENCE":  testAudience,
		"ENTRA_AUTHORITY": e.entra.authority(),
	}
	o := Options{
		Getenv: func(k string) string { return settings[k] },
		Logger: zerolog.New(e.logs),
		Now:    e.clock.Now,
	}
	tune := testTuning()
	if prepare != nil {
		prepare(e.entra, &o, &tune)
	}
	a, err := newAuthenticator(t.Context(), o, tune)
	if err != nil {
		t.Fatalf("newAuthenticator: %v", err)
	}
	e.auth = a
	return e
}

func (e *env) waitReady(t testing.TB) {
	t.Helper()
	eventually(t, 5*time.Second, "the keys to load", e.auth.Ready)
}

// eventually polls cond until it holds or d passes.
func eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// v2Claims are the claims of a valid v2 token at the clock's time.
func (e *env) v2Claims() jwt.MapClaims {
	now := e.clock.Now()
	return jwt.MapClaims{
		"aud":    testAudience,
		"iss":    e.entra.issuer,
		"iat":    now.Add(-time.Minute).Unix(),
		"nbf":    now.Add(-time.Minute).Unix(),
		"exp":    now.Add(time.Hour).Unix(),
		"azp":    eventsAppID,
		"azpacr": "2",
		"tid":    testTenant,
		"sub":    "a1b2c3d4-0000-4000-8000-000000000001",
		"roles":  []string{"customauthenticationextension.api.endpoint"},
		"ver":    "2.0",
	}
}

// sign signs c; kid "" leaves it out of the header.
func sign(t testing.TB, method jwt.SigningMethod, key any, kid string, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("signing: %v", err)
	}
	return s
}

// valid is a valid v2 token signed with the main key.
func (e *env) valid(t testing.TB, edit func(jwt.MapClaims)) string {
	c := e.v2Claims()
	if edit != nil {
		edit(c)
	}
	return sign(t, jwt.SigningMethodRS256, loadTestKeys().main, "main", c)
}

func request(authorization ...string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/api/attributeStart", strings.NewReader(`{}`))
	for _, a := range authorization {
		r.Header.Add("Authorization", a)
	}
	return r
}

// wantError checks that err is an *Error from the named check, with the
// status and challenge that go with it, and that it does not leak token.
func wantError(t testing.TB, err error, check string, status int, token string) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("got %v, want an *Error from check %q", err, check)
	}
	if e.Check != check || e.HTTPStatus() != status {
		t.Fatalf("got check %q status %d (%v), want check %q status %d", e.Check, e.HTTPStatus(), e, check, status)
	}
	ch := e.WWWAuthenticate()
	switch {
	case token == "" || status != http.StatusUnauthorized:
		if ch != "Bearer" {
			t.Errorf("WWWAuthenticate() = %q, want %q", ch, "Bearer")
		}
	default:
		const prefix = `Bearer error="invalid_token", error_description="`
		desc, ok := strings.CutPrefix(ch, prefix)
		if !ok || !strings.HasSuffix(desc, `"`) || strings.ContainsAny(strings.TrimSuffix(desc, `"`), "\"\\") || len(desc) < 5 {
			t.Errorf("WWWAuthenticate() = %q, want %s...\"", ch, prefix)
		}
	}
	if token != "" {
		for _, part := range strings.Split(token, ".") {
			if len(part) > 16 && strings.Contains(e.Error(), part) {
				t.Errorf("the error text quotes the token: %v", e)
			}
		}
	}
	return e
}

// syncBuffer is a log sink that tests may read while the Authenticator
// writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
