package server_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/rs/zerolog"

	"github.com/invitegate/invitegate/internal/entraauth"
	"github.com/invitegate/invitegate/internal/invite/invitetest"
	"github.com/invitegate/invitegate/internal/server"
)

// This file runs forged and broken tokens through the whole server with the
// real entraauth.Authenticator, which fetches real keys over HTTP from a
// fake tenant. Every rejection must happen before the store is touched.

const (
	entraTenant   = "7d1c0b6e-1111-4a2b-9c3d-0a0b0c0d0e0f"
	entraAudience = "c0ffee00-1234-4abc-9def-00112233aabb"
	entraCaller   = "99045fe1-7639-4a75-9d4a-577b6ca3810f" // the authentication events service
	entraOther    = "0badbad0-2222-4bbb-8ccc-0123456789ab"
)

// entraStartBody is an OnAttributeCollectionStart request as Entra sends it.
const entraStartBody = `{
  "type": "microsoft.graph.authenticationEvent.attributeCollectionStart",
  "source": "/tenants/7d1c0b6e-1111-4a2b-9c3d-0a0b0c0d0e0f/applications/5f3e2d1c-2222-4b3a-8c9d-1a2b3c4d5e6f",
  "data": {
    "@odata.type": "microsoft.graph.onAttributeCollectionStartCalloutData",
    "tenantId": "7d1c0b6e-1111-4a2b-9c3d-0a0b0c0d0e0f",
    "authenticationEventListenerId": "0c9b8a7d-3333-4c5d-9e8f-2b3c4d5e6f70",
    "customAuthenticationExtensionId": "9a8b7c6d-4444-4d5e-8f90-3c4d5e6f7081",
    "authenticationContext": {
      "correlationId": "e4f5a6b7-5555-4e6f-9a0b-4d5e6f708192",
      "client": { "ip": "203.0.113.42", "locale": "en-gb", "market": "en-gb" },
      "protocol": "OAUTH2.0",
      "clientServicePrincipal": { "id": "11aa22bb-6666-4f70-8a1b-5e6f708192a3", "appId": "5f3e2d1c-2222-4b3a-8c9d-1a2b3c4d5e6f", "appDisplayName": "Members Portal", "displayName": "Members Portal" },
      "resourceServicePrincipal": { "id": "11aa22bb-6666-4f70-8a1b-5e6f708192a3", "appId": "5f3e2d1c-2222-4b3a-8c9d-1a2b3c4d5e6f", "appDisplayName": "Members Portal", "displayName": "Members Portal" }
    },
    "userSignUpInfo": {
      "attributes": {
        "email": { "@odata.type": "microsoft.graph.stringDirectoryAttributeValue", "value": "Jo.Bloggs@Example.org", "attributeType": "builtIn" }
      },
      "identities": [
        { "signInType": "email", "issuer": "examplemembers.onmicrosoft.com", "issuerAssignedId": "Jo.Bloggs@Example.org" }
      ]
    }
  }
}`

// entraTenantServer serves a tenant's discovery document and JWKS.
type entraTenantServer struct {
	srv  *httptest.Server
	key  *rsa.PrivateKey // published as kid "main"
	down atomic.Bool
}

func newEntraTenantServer(t *testing.T, key *rsa.PrivateKey) *entraTenantServer {
	t.Helper()
	s := &entraTenantServer{key: key}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /"+entraTenant+"/v2.0/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		if s.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"issuer": s.issuer(), "jwks_uri": s.srv.URL + "/" + entraTenant + "/discovery/v2.0/keys"})
	})
	mux.HandleFunc("GET /"+entraTenant+"/discovery/v2.0/keys", func(w http.ResponseWriter, r *http.Request) {
		b64 := base64.RawURLEncoding.EncodeToString
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{
			"kty": "RSA", "use": "sig", "kid": "main",
			"n": b64(key.N.Bytes()), "e": b64(big.NewInt(int64(key.E)).Bytes()),
		}}})
	})
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)
	return s
}

func (s *entraTenantServer) authority() string { return s.srv.URL + "/" + entraTenant + "/v2.0" }
func (s *entraTenantServer) issuer() string    { return s.authority() }

// entraGate is the server with a real Authenticator in front of a store
// that counts calls.
type entraGate struct {
	h     http.Handler
	store *invitetest.Memory
	auth  *entraauth.Authenticator
}

func newEntraGate(t *testing.T, tenant *entraTenantServer, settings map[string]string) entraGate {
	t.Helper()
	auth, err := entraauth.New(t.Context(), entraauth.Options{
		Getenv:  func(k string) string { return settings[k] },
		MaxWait: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	store := invitetest.NewMemory()
	h := server.New(server.Deps{Store: store, Auth: auth, Log: zerolog.Nop(), StoreTimeout: 200 * time.Millisecond})
	return entraGate{h: h, store: store, auth: auth}
}

func jwtSettings(tenant *entraTenantServer) map[string]string {
	return map[string]string{"ENTRA_TENANT_ID": entraTenant, "ENTRA_AUDIENCE": entraAudience, "ENTRA_AUTHORITY": tenant.authority()}
}

func (g entraGate) post(headers http.Header) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/api/attributeStart", strings.NewReader(entraStartBody))
	req.Header.Set("Content-Type", "application/json")
	for k, vs := range headers {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	rec := httptest.NewRecorder()
	g.h.ServeHTTP(rec, req)
	return rec
}

func waitEntraReady(t *testing.T, a *entraauth.Authenticator) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !a.Ready() {
		if time.Now().After(deadline) {
			t.Fatal("the signing keys did not load")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// wantRejected checks a refusal: status, challenge, a short JSON reason
// that does not echo the token, and no store call.
func wantRejected(t *testing.T, g entraGate, rec *httptest.ResponseRecorder, status int, token string) {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d; body %s", rec.Code, status, rec.Body)
	}
	if ch := rec.Header().Get("WWW-Authenticate"); ch != "Bearer" && !strings.HasPrefix(ch, "Bearer ") {
		t.Errorf("WWW-Authenticate %q, want a Bearer challenge", ch)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var body struct{ Error, Message string }
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error == "" || body.Message == "" || len(rec.Body.String()) > 300 {
		t.Errorf("body %s: want a short JSON reason (%v)", rec.Body, err)
	}
	if token != "" && len(token) > 20 && bytes.Contains(rec.Body.Bytes(), []byte(token[len(token)-20:])) {
		t.Error("the body echoes the token")
	}
	if n := g.store.Calls(); n != 0 {
		t.Errorf("%d store calls for a refused request, want 0", n)
	}
}

func TestEntraAuthThroughServer(t *testing.T) {
	t.Parallel()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tenant := newEntraTenantServer(t, key)

	v2 := func() jwt.MapClaims {
		now := time.Now()
		return jwt.MapClaims{
			"aud": entraAudience, "iss": tenant.issuer(), "azp": entraCaller, "tid": entraTenant, "ver": "2.0",
			"iat": now.Add(-time.Minute).Unix(), "nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(time.Hour).Unix(),
		}
	}
	signed := func(method jwt.SigningMethod, k any, kid string, edit func(jwt.MapClaims)) string {
		c := v2()
		if edit != nil {
			edit(c)
		}
		tok := jwt.NewWithClaims(method, c)
		tok.Header["kid"] = kid
		s, err := tok.SignedString(k)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	valid := func(edit func(jwt.MapClaims)) string { return signed(jwt.SigningMethodRS256, key, "main", edit) }
	pubPEM := func() []byte {
		der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	}

	tests := []struct {
		name   string
		auth   func() string // the Authorization header; "" sends none
		status int
	}{
		{"valid v2", func() string { return "Bearer " + valid(nil) }, http.StatusOK},
		{"valid v1", func() string {
			return "Bearer " + valid(func(c jwt.MapClaims) {
				c["ver"], c["appid"], c["iss"] = "1.0", entraCaller, "https://sts.windows.net/"+entraTenant+"/"
				c["aud"] = "api://invitegate-fn.azurewebsites.net/" + entraAudience
				delete(c, "azp")
			})
		}, http.StatusOK},
		{"expired", func() string {
			return "Bearer " + valid(func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-10 * time.Minute).Unix() })
		}, http.StatusUnauthorized},
		{"not yet valid", func() string {
			return "Bearer " + valid(func(c jwt.MapClaims) { c["nbf"] = time.Now().Add(10 * time.Minute).Unix() })
		}, http.StatusUnauthorized},
		{"wrong audience", func() string { return "Bearer " + valid(func(c jwt.MapClaims) { c["aud"] = entraOther }) }, http.StatusUnauthorized},
		{"wrong azp", func() string { return "Bearer " + valid(func(c jwt.MapClaims) { c["azp"] = entraOther }) }, http.StatusUnauthorized},
		{"wrong issuer", func() string {
			return "Bearer " + valid(func(c jwt.MapClaims) { c["iss"] = "https://evil.example/" + entraTenant + "/v2.0" })
		}, http.StatusUnauthorized},
		{"other tenant", func() string { return "Bearer " + valid(func(c jwt.MapClaims) { c["tid"] = entraOther }) }, http.StatusUnauthorized},
		{"alg none", func() string {
			return "Bearer " + signed(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "main", nil)
		}, http.StatusUnauthorized},
		{"HS256 keyed with the public key", func() string {
			return "Bearer " + signed(jwt.SigningMethodHS256, pubPEM(), "main", nil)
		}, http.StatusUnauthorized},
		{"unknown kid", func() string { return "Bearer " + signed(jwt.SigningMethodRS256, other, "forged", nil) }, http.StatusUnauthorized},
		{"signed by another key", func() string { return "Bearer " + signed(jwt.SigningMethodRS256, other, "main", nil) }, http.StatusUnauthorized},
		{"tampered payload", func() string {
			parts := strings.Split(valid(nil), ".")
			c := v2()
			c["sub"] = "someone-else"
			b, _ := json.Marshal(c)
			parts[1] = base64.RawURLEncoding.EncodeToString(b)
			return "Bearer " + strings.Join(parts, ".")
		}, http.StatusUnauthorized},
		{"no Authorization header", func() string { return "" }, http.StatusUnauthorized},
		{"Bearer garbage", func() string { return "Bearer garbage" }, http.StatusUnauthorized},
		{"Bearer without a token", func() string { return "Bearer" }, http.StatusUnauthorized},
		{"Basic scheme", func() string { return "Basic dXNlcjpwYXNz" }, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := newEntraGate(t, tenant, jwtSettings(tenant))
			waitEntraReady(t, g.auth)
			h := http.Header{}
			authz := tt.auth()
			if authz != "" {
				h.Set("Authorization", authz)
			}
			rec := g.post(h)
			if tt.status == http.StatusOK {
				if rec.Code != http.StatusOK || g.store.Calls() != 1 {
					t.Fatalf("status %d after %d store calls, want 200 after 1; body %s", rec.Code, g.store.Calls(), rec.Body)
				}
				return
			}
			wantRejected(t, g, rec, tt.status, strings.TrimPrefix(authz, "Bearer "))
			if ch := rec.Header().Get("WWW-Authenticate"); strings.HasPrefix(authz, "Bearer ") && len(authz) > len("Bearer ") &&
				!strings.HasPrefix(ch, `Bearer error="invalid_token"`) {
				t.Errorf("WWW-Authenticate %q for a presented token, want error=\"invalid_token\"", ch)
			}
		})
	}
}

func TestEntraAuthKeysNeverLoadedThroughServer(t *testing.T) {
	t.Parallel()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tenant := newEntraTenantServer(t, key)
	tenant.down.Store(true)
	g := newEntraGate(t, tenant, jwtSettings(tenant))

	now := time.Now()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"aud": entraAudience, "iss": tenant.issuer(), "azp": entraCaller, "tid": entraTenant, "ver": "2.0",
		"nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(time.Hour).Unix(),
	})
	tok.Header["kid"] = "main"
	raw, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{"Authorization": {"Bearer " + raw}}

	rec := g.post(h)
	wantRejected(t, g, rec, http.StatusServiceUnavailable, raw)

	// Once the tenant answers, the background retry loads the keys.
	tenant.down.Store(false)
	waitEntraReady(t, g.auth)
	if rec := g.post(h); rec.Code != http.StatusOK {
		t.Fatalf("after the keys loaded: status %d, body %s", rec.Code, rec.Body)
	}
}

func TestEasyAuthThroughServer(t *testing.T) {
	t.Parallel()
	settings := map[string]string{"ENTRA_AUTH": "easyauth", "WEBSITE_AUTH_ENABLED": "true", "ENTRA_TENANT_ID": entraTenant}
	principal := func(azp string) string {
		b, _ := json.Marshal(map[string]any{"auth_typ": "aad", "claims": []map[string]string{
			{"typ": "azp", "val": azp}, {"typ": "http://schemas.microsoft.com/identity/claims/tenantid", "val": entraTenant},
		}})
		return base64.StdEncoding.EncodeToString(b)
	}
	tests := []struct {
		name   string
		header http.Header
		status int
	}{
		{"valid principal", http.Header{"X-Ms-Client-Principal": {principal(entraCaller)}, "X-Ms-Client-Principal-Idp": {"aad"}}, http.StatusOK},
		{"no principal", http.Header{}, http.StatusUnauthorized},
		{"bad base64", http.Header{"X-Ms-Client-Principal": {"%%%"}}, http.StatusUnauthorized},
		{"wrong azp", http.Header{"X-Ms-Client-Principal": {principal(entraOther)}}, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := newEntraGate(t, nil, settings)
			rec := g.post(tt.header)
			if tt.status == http.StatusOK {
				if rec.Code != http.StatusOK || g.store.Calls() != 1 {
					t.Fatalf("status %d after %d store calls, want 200 after 1; body %s", rec.Code, g.store.Calls(), rec.Body)
				}
				return
			}
			wantRejected(t, g, rec, tt.status, "")
		})
	}
}
