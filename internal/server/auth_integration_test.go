package server_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/invitegate/invitegate/internal/entraauth"
	"github.com/invitegate/invitegate/internal/entraauth/entratest"
	"github.com/invitegate/invitegate/internal/invite/invitetest"
	"github.com/invitegate/invitegate/internal/server"
)

// This file runs forged and broken tokens through the whole server with the
// real entraauth.Authenticator, which fetches real keys over HTTP from an
// entratest tenant. Every rejection must happen before the store is
// touched, and every refused token must get the same answer.

const (
	entraTenant = entratest.TenantID
	entraOther  = "0badbad0-2222-4bbb-8ccc-0123456789ab"
)

// entraKeys are the signing key of the tenants of these tests and a key of
// nobody's, minted once (RSA generation is slow).
var entraKeys = sync.OnceValue(func() [2]*rsa.PrivateKey {
	var keys [2]*rsa.PrivateKey
	for i := range keys {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		keys[i] = k
	}
	return keys
})

// newEntraTenant starts a tenant that signs with entraKeys()[0] as "main".
func newEntraTenant(t *testing.T) *entratest.Tenant {
	t.Helper()
	tenant := entratest.NewTenant(entratest.WithKey("main", entraKeys()[0]))
	t.Cleanup(tenant.Close)
	return tenant
}

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

// entraGate is the server with a real Authenticator in front of a store
// that counts calls.
type entraGate struct {
	h     http.Handler
	store *invitetest.Memory
	auth  *entraauth.Authenticator
}

func newEntraGate(t *testing.T, cfg entraauth.Config) entraGate {
	t.Helper()
	auth, err := entraauth.New(t.Context(), cfg, entraauth.Options{MaxWait: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	store := invitetest.NewMemory()
	h := server.New(server.Deps{Store: store, Auth: auth, Log: zerolog.Nop(), StoreTimeout: 200 * time.Millisecond})
	return entraGate{h: h, store: store, auth: auth}
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
	tenant := newEntraTenant(t)
	other := entraKeys()[1]

	tests := []struct {
		name   string
		auth   func() string // the Authorization header; "" sends none
		status int
	}{
		{"valid v2", func() string { return "Bearer " + tenant.Token() }, http.StatusOK},
		{"valid v1", func() string { return "Bearer " + tenant.Token(entratest.V1("invitegate-fn.azurewebsites.net")) }, http.StatusOK},
		{"tenant-domain issuer", func() string {
			return "Bearer " + tenant.Token(entratest.WithIssuer("https://contoso.ciamlogin.com/"+entraTenant+"/v2.0"))
		}, http.StatusOK},
		{"expired", func() string {
			return "Bearer " + tenant.Token(entratest.WithExpiry(time.Now().Add(-10*time.Minute)))
		}, http.StatusUnauthorized},
		{"not yet valid", func() string {
			return "Bearer " + tenant.Token(entratest.WithNotBefore(time.Now().Add(10*time.Minute)))
		}, http.StatusUnauthorized},
		{"wrong audience", func() string { return "Bearer " + tenant.Token(entratest.WithAudience(entraOther)) }, http.StatusUnauthorized},
		{"wrong azp", func() string { return "Bearer " + tenant.Token(entratest.WithAzp(entraOther)) }, http.StatusUnauthorized},
		{"wrong issuer", func() string {
			return "Bearer " + tenant.Token(entratest.WithIssuer("https://evil.example/"+entraTenant+"/v2.0"))
		}, http.StatusUnauthorized},
		{"other tenant", func() string { return "Bearer " + tenant.Token(entratest.WithTenant(entraOther)) }, http.StatusUnauthorized},
		{"alg none", func() string { return "Bearer " + tenant.Token(entratest.WithAlg("none")) }, http.StatusUnauthorized},
		{"HS256 keyed with the public key", func() string { return "Bearer " + tenant.Token(entratest.WithAlg("HS256")) }, http.StatusUnauthorized},
		{"unknown kid", func() string {
			return "Bearer " + tenant.Token(entratest.SignedWith(other), entratest.WithKID("forged"))
		}, http.StatusUnauthorized},
		{"signed by another key", func() string { return "Bearer " + tenant.Token(entratest.SignedWith(other)) }, http.StatusUnauthorized},
		{"tampered payload", func() string {
			parts := strings.Split(tenant.Token(), ".")
			b, _ := json.Marshal(tenant.Claims(entratest.WithClaim("sub", "someone-else")))
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
			g := newEntraGate(t, tenant.Config())
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
				ch != `Bearer error="invalid_token"` {
				t.Errorf("WWW-Authenticate %q for a presented token, want Bearer error=\"invalid_token\"", ch)
			}
		})
	}
}

// TestRefusedTokensLookAlike shows that an unauthenticated caller learns
// nothing from a refusal but that it was refused: a token for the wrong
// audience, one for the wrong tenant, one with a bad signature and the
// rest get byte-identical bodies and identical headers, so guessing the
// tenant id or the audience right does not show.
func TestRefusedTokensLookAlike(t *testing.T) {
	t.Parallel()
	tenant := newEntraTenant(t)
	g := newEntraGate(t, tenant.Config())
	waitEntraReady(t, g.auth)
	forger := entratest.NewTenant(entratest.WithKey("main", entraKeys()[1]))
	forger.Close()

	tokens := []struct{ name, token string }{
		{"wrong audience", tenant.Token(entratest.WithAudience(entraOther))},
		{"wrong tenant (tid)", tenant.Token(entratest.WithTenant(entraOther))},
		{"wrong tenant (issuer)", tenant.Token(entratest.WithIssuer("https://contoso.ciamlogin.com/" + entraOther + "/v2.0"))},
		{"bad signature", forger.Token(entratest.WithIssuer(tenant.Issuer()))},
		{"wrong caller", tenant.Token(entratest.WithAzp(entraOther))},
		{"expired", tenant.Token(entratest.WithExpiry(time.Now().Add(-time.Hour)))},
		{"unknown key", tenant.Token(entratest.SignedWith(entraKeys()[1]), entratest.WithKID("nobody"))},
		{"not a JWT", "garbage"},
	}
	var firstName string
	var firstBody []byte
	var firstHeader http.Header
	for _, tt := range tokens {
		rec := g.post(http.Header{"Authorization": {"Bearer " + tt.token}})
		wantRejected(t, g, rec, http.StatusUnauthorized, tt.token)
		if firstBody == nil {
			firstName, firstBody, firstHeader = tt.name, rec.Body.Bytes(), rec.Header()
			continue
		}
		if !bytes.Equal(rec.Body.Bytes(), firstBody) {
			t.Errorf("%s: body %s, but %s got %s", tt.name, rec.Body, firstName, firstBody)
		}
		if !maps.EqualFunc(rec.Header(), firstHeader, slices.Equal) {
			t.Errorf("%s: headers %v, but %s got %v", tt.name, rec.Header(), firstName, firstHeader)
		}
	}
	if !strings.Contains(string(firstBody), "the request is not authenticated") {
		t.Errorf("body %s, want the generic reason", firstBody)
	}
}

func TestEntraAuthKeysNeverLoadedThroughServer(t *testing.T) {
	t.Parallel()
	tenant := newEntraTenant(t)
	tenant.Down(true)
	g := newEntraGate(t, tenant.Config())
	raw := tenant.Token()
	h := http.Header{"Authorization": {"Bearer " + raw}}

	rec := g.post(h)
	wantRejected(t, g, rec, http.StatusServiceUnavailable, raw)
	if !strings.Contains(rec.Body.String(), "signing keys are not loaded yet") {
		t.Errorf("503 body %s, want it to say the keys are not loaded", rec.Body)
	}

	// Once the tenant answers, the background retry loads the keys.
	tenant.Down(false)
	waitEntraReady(t, g.auth)
	if rec := g.post(h); rec.Code != http.StatusOK {
		t.Fatalf("after the keys loaded: status %d, body %s", rec.Code, rec.Body)
	}
}

func TestEasyAuthThroughServer(t *testing.T) {
	t.Parallel()
	cfg := entraauth.Config{Mode: entraauth.ModeEasyAuth, TenantID: entraTenant, Audience: entratest.Audience,
		Platform: entraauth.Platform{AzureVariable: "WEBSITE_SITE_NAME", SKU: "ElasticPremium", AuthEnabled: true}}
	principal := func(azp string) string {
		b, _ := json.Marshal(map[string]any{"auth_typ": "aad", "claims": []map[string]string{
			{"typ": "azp", "val": azp}, {"typ": "http://schemas.microsoft.com/identity/claims/tenantid", "val": entraTenant},
			{"typ": "aud", "val": entratest.Audience},
		}})
		return base64.StdEncoding.EncodeToString(b)
	}
	tests := []struct {
		name   string
		header http.Header
		status int
	}{
		{"valid principal", http.Header{"X-Ms-Client-Principal": {principal(entraauth.EventsAppID)}, "X-Ms-Client-Principal-Idp": {"aad"}}, http.StatusOK},
		{"no principal", http.Header{}, http.StatusUnauthorized},
		{"bad base64", http.Header{"X-Ms-Client-Principal": {"%%%"}}, http.StatusUnauthorized},
		{"wrong azp", http.Header{"X-Ms-Client-Principal": {principal(entraOther)}}, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := newEntraGate(t, cfg)
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
