package entraauth_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/rs/zerolog"

	"github.com/invitegate/invitegate/internal/entraauth"
	"github.com/invitegate/invitegate/internal/entraauth/entratest"
	"github.com/invitegate/invitegate/internal/testutil/logbuf"
)

const (
	testTenant   = entratest.TenantID
	testAudience = entratest.Audience
	otherTenant  = "0badbad0-2222-4bbb-8ccc-0123456789ab"
	otherApp     = "0badbad0-3333-4ddd-8eee-0123456789ab"
)

// testKeys are minted once per test binary (RSA generation is slow) and
// never changed. main signs the tenant's tokens; the others are published
// under odd kids, or not at all.
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

// newTenant is a tenant whose signing key is "main", that also publishes
// keys no RS256 token may be verified with: an EC key, an RSA key that
// declares RS512, an encryption key, a 1024-bit key, a key that does not
// parse and a symmetric one.
func newTenant(t testing.TB, c *clock) *entratest.Tenant {
	t.Helper()
	k := loadTestKeys()
	tenant := entratest.NewTenant(entratest.WithKey("main", k.main), entratest.WithClock(c.Now))
	t.Cleanup(tenant.Close)
	tenant.PublishJWK(ecJWK(t, "ec", &k.ec.PublicKey))
	tenant.PublishJWK(withField(entratest.RSAJWK("rs512", &k.second.PublicKey), "alg", "RS512"))
	tenant.PublishJWK(withField(entratest.RSAJWK("enc", &k.second.PublicKey), "use", "enc"))
	tenant.PublishJWK(entratest.RSAJWK("small", &k.small.PublicKey))
	tenant.PublishJWK(map[string]any{"kty": "RSA", "kid": "broken", "use": "sig", "n": "!!!", "e": "AQAB"})
	tenant.PublishJWK(map[string]any{"kty": "oct", "kid": "oct", "k": "c2VjcmV0"})
	return tenant
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

// env is an Authenticator in jwt mode in front of a tenant.
type env struct {
	tenant *entratest.Tenant
	clock  *clock
	auth   *entraauth.Authenticator
	logs   *logbuf.Buffer
}

func testTuning() entraauth.Tuning {
	t := entraauth.DefaultTuning()
	t.RetryMin = 10 * time.Millisecond
	t.RetryMax = 40 * time.Millisecond
	t.FetchTimeout = 5 * time.Second
	return t
}

// prepareFunc may change the tenant, the settings, the options and the
// timings before the Authenticator starts.
type prepareFunc func(*entratest.Tenant, *entraauth.Config, *entraauth.Options, *entraauth.Tuning)

// newReadyEnv is newEnv, once the keys have loaded.
func newReadyEnv(t testing.TB, prepare prepareFunc) *env {
	t.Helper()
	e := newEnv(t, prepare)
	e.waitReady(t)
	return e
}

// newEnv starts an Authenticator against a fresh tenant.
func newEnv(t testing.TB, prepare prepareFunc) *env {
	t.Helper()
	c := newClock()
	e := &env{tenant: newTenant(t, c), clock: c, logs: &logbuf.Buffer{}}
	cfg := e.tenant.Config()
	o := entraauth.Options{Logger: zerolog.New(e.logs), Now: c.Now}
	tune := testTuning()
	if prepare != nil {
		prepare(e.tenant, &cfg, &o, &tune)
	}
	a, err := entraauth.NewWithTuning(t.Context(), cfg, o, tune)
	if err != nil {
		t.Fatalf("entraauth.New: %v", err)
	}
	e.auth = a
	return e
}

func (e *env) waitReady(t testing.TB) {
	t.Helper()
	eventually(t, 5*time.Second, "the keys to load", e.auth.Ready)
}

// token mints a token of the env's tenant.
func (e *env) token(opts ...entratest.TokenOption) string { return e.tenant.Token(opts...) }

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

func request(authorization ...string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/api/attributeStart", strings.NewReader(`{}`))
	for _, a := range authorization {
		r.Header.Add("Authorization", a)
	}
	return r
}

// wantError checks that err is an *Error from the named check, with the
// status and challenge that go with it, and that it does not leak token.
// The challenge must be the same for every check: "Bearer" when no token
// was presented or it could not be judged (503), and otherwise exactly
// Bearer error="invalid_token".
func wantError(t testing.TB, err error, check string, status int, token string) *entraauth.Error {
	t.Helper()
	var e *entraauth.Error
	if !errors.As(err, &e) {
		t.Fatalf("got %v, want an *Error from check %q", err, check)
	}
	if e.Check() != check || e.HTTPStatus() != status {
		t.Fatalf("got check %q status %d (%v), want check %q status %d", e.Check(), e.HTTPStatus(), e, check, status)
	}
	if !slices.Contains(entraauth.Checks(), e.Check()) {
		t.Errorf("check %q is not one of Checks() %q", e.Check(), entraauth.Checks())
	}
	want := `Bearer error="invalid_token"`
	if token == "" || status != http.StatusUnauthorized {
		want = "Bearer"
	}
	if ch := e.WWWAuthenticate(); ch != want {
		t.Errorf("WWWAuthenticate() = %q, want %q", ch, want)
	}
	if !strings.HasPrefix(e.Error(), "entraauth: "+check+": ") {
		t.Errorf("Error() = %q, want it to start with the check", e.Error())
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
