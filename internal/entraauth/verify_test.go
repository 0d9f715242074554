package entraauth

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TestAuthenticateJWT runs one signed token, or one Authorization header,
// per case through an Authenticator that loaded real keys over HTTP. Each
// rejection must come from its own check, so removing a check fails its
// case.
func TestAuthenticateJWT(t *testing.T) {
	t.Parallel()
	k := loadTestKeys()

	// token builds the bearer token of a case; edit changes the claims of a
	// valid v2 token.
	type token func(t testing.TB, e *env) string
	claimsEdit := func(edit func(c jwt.MapClaims, e *env)) token {
		return func(t testing.TB, e *env) string {
			return e.valid(t, func(c jwt.MapClaims) { edit(c, e) })
		}
	}
	signedWith := func(method jwt.SigningMethod, key func() any, kid string) token {
		return func(t testing.TB, e *env) string { return sign(t, method, key(), kid, e.v2Claims()) }
	}
	v1 := func(c jwt.MapClaims, e *env) {
		c["ver"] = "1.0"
		c["iss"] = "https://sts.windows.net/" + testTenant + "/"
		c["aud"] = "api://invitegate-fn.azurewebsites.net/" + testAudience
		c["appid"] = eventsAppID
		delete(c, "azp")
		delete(c, "azpacr")
	}
	now := func(e *env) time.Time { return e.clock.Now() }

	tests := []struct {
		name    string
		token   token                     // sent as "Bearer <token>"
		send    func(tok string) []string // the Authorization headers for token, instead
		header  []string                  // sent instead, when token is nil
		check   string                    // "" means accepted
		status  int                       // 0 means 401
		noToken bool                      // no token was presented: plain Bearer challenge
	}{
		{name: "valid v2", token: claimsEdit(func(jwt.MapClaims, *env) {})},
		{name: "valid v1 (appid, sts.windows.net, api:// audience)", token: claimsEdit(v1)},
		{name: "issuer in ciamlogin GUID form", token: claimsEdit(func(c jwt.MapClaims, e *env) {
			c["iss"] = "https://" + testTenant + ".ciamlogin.com/" + testTenant + "/v2.0"
		})},
		{name: "issuer in workforce form", token: claimsEdit(func(c jwt.MapClaims, e *env) {
			c["iss"] = "https://login.microsoftonline.com/" + testTenant + "/v2.0"
		})},
		{name: "no ver, azp", token: claimsEdit(func(c jwt.MapClaims, e *env) { delete(c, "ver") })},
		{name: "no ver, appid", token: claimsEdit(func(c jwt.MapClaims, e *env) {
			delete(c, "ver")
			delete(c, "azp")
			c["appid"] = eventsAppID
		})},
		{name: "no tid", token: claimsEdit(func(c jwt.MapClaims, e *env) { delete(c, "tid") })},
		{name: "aud list containing ours", token: claimsEdit(func(c jwt.MapClaims, e *env) { c["aud"] = []string{otherApp, testAudience} })},
		{name: "lower-case bearer scheme", token: claimsEdit(func(jwt.MapClaims, *env) {}),
			send: func(tok string) []string { return []string{"bearer " + tok} }},
		{name: "expired beyond skew", check: checkExp, token: claimsEdit(func(c jwt.MapClaims, e *env) {
			c["exp"] = now(e).Add(-6 * time.Minute).Unix()
		})},
		{name: "expired within skew", token: claimsEdit(func(c jwt.MapClaims, e *env) {
			c["exp"] = now(e).Add(-4 * time.Minute).Unix()
		})},
		{name: "no exp", check: checkExp, token: claimsEdit(func(c jwt.MapClaims, e *env) { delete(c, "exp") })},
		{name: "not yet valid beyond skew", check: checkNbf, token: claimsEdit(func(c jwt.MapClaims, e *env) {
			c["nbf"] = now(e).Add(6 * time.Minute).Unix()
		})},
		{name: "not yet valid within skew", token: claimsEdit(func(c jwt.MapClaims, e *env) {
			c["nbf"] = now(e).Add(4 * time.Minute).Unix()
		})},
		{name: "wrong audience", check: checkAud, token: claimsEdit(func(c jwt.MapClaims, e *env) { c["aud"] = otherApp })},
		{name: "App ID URI of another app", check: checkAud, token: claimsEdit(func(c jwt.MapClaims, e *env) {
			c["aud"] = "api://invitegate-fn.azurewebsites.net/" + otherApp
		})},
		{name: "no audience", check: checkAud, token: claimsEdit(func(c jwt.MapClaims, e *env) { delete(c, "aud") })},
		{name: "wrong azp", check: checkAzp, token: claimsEdit(func(c jwt.MapClaims, e *env) { c["azp"] = otherApp })},
		{name: "v2 without azp but with appid", check: checkAzp, token: claimsEdit(func(c jwt.MapClaims, e *env) {
			delete(c, "azp")
			c["appid"] = eventsAppID
		})},
		{name: "v1 with wrong appid", check: checkAzp, token: claimsEdit(func(c jwt.MapClaims, e *env) {
			v1(c, e)
			c["appid"] = otherApp
			c["azp"] = eventsAppID // v1 must be judged by appid
		})},
		{name: "unknown ver", check: checkVer, token: claimsEdit(func(c jwt.MapClaims, e *env) { c["ver"] = "3.0" })},
		{name: "wrong issuer", check: checkIss, token: claimsEdit(func(c jwt.MapClaims, e *env) {
			c["iss"] = "https://evil.example/" + testTenant + "/v2.0"
		})},
		{name: "other tenant's issuer", check: checkIss, token: claimsEdit(func(c jwt.MapClaims, e *env) {
			c["iss"] = "https://" + otherTenant + ".ciamlogin.com/" + otherTenant + "/v2.0"
		})},
		{name: "other tenant's tid", check: checkTid, token: claimsEdit(func(c jwt.MapClaims, e *env) { c["tid"] = otherTenant })},
		{name: "alg none", check: checkAlg, token: signedWith(jwt.SigningMethodNone, func() any { return jwt.UnsafeAllowNoneSignatureType }, "main")},
		{name: "HS256 keyed with the public key", check: checkAlg, token: signedWith(jwt.SigningMethodHS256, func() any {
			der, err := x509.MarshalPKIXPublicKey(&k.main.PublicKey)
			if err != nil {
				panic(err)
			}
			return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
		}, "main")},
		{name: "RS384", check: checkAlg, token: signedWith(jwt.SigningMethodRS384, func() any { return k.main }, "main")},
		{name: "PS256", check: checkAlg, token: signedWith(jwt.SigningMethodPS256, func() any { return k.main }, "main")},
		{name: "no kid", check: checkKid, token: signedWith(jwt.SigningMethodRS256, func() any { return k.main }, "")},
		{name: "kid of an EC key", check: checkKey, token: signedWith(jwt.SigningMethodRS256, func() any { return k.second }, "ec")},
		{name: "kid of a key declaring RS512", check: checkKey, token: signedWith(jwt.SigningMethodRS256, func() any { return k.second }, "rs512")},
		{name: "kid of an encryption key", check: checkKey, token: signedWith(jwt.SigningMethodRS256, func() any { return k.second }, "enc")},
		{name: "kid of a 1024-bit key", check: checkKey, token: signedWith(jwt.SigningMethodRS256, func() any { return k.small }, "small")},
		{name: "signed by another key under our kid", check: checkSignature, token: signedWith(jwt.SigningMethodRS256, func() any { return k.unpublished }, "main")},
		{name: "tampered payload", check: checkSignature, token: func(t testing.TB, e *env) string {
			parts := strings.Split(e.valid(t, nil), ".")
			c := e.v2Claims()
			c["sub"] = "someone-else"
			b, _ := json.Marshal(c)
			parts[1] = base64.RawURLEncoding.EncodeToString(b)
			return strings.Join(parts, ".")
		}},
		{name: "garbage", check: checkToken, token: func(testing.TB, *env) string { return "not-a-jwt" }},
		{name: "garbage in three parts", check: checkToken, token: func(testing.TB, *env) string { return "!!!.e30.e30" }},
		{name: "longer than 16 KiB", check: checkToken, token: func(t testing.TB, e *env) string {
			return e.valid(t, func(c jwt.MapClaims) { c["pad"] = strings.Repeat("x", 16<<10) })
		}},
		{name: "no Authorization header", check: checkHeader, header: []string{}, noToken: true},
		{name: "Bearer without a token", check: checkHeader, header: []string{"Bearer "}, noToken: true},
		{name: "Basic scheme", check: checkHeader, header: []string{"Basic dXNlcjpwYXNz"}, noToken: true},
		{name: "two Authorization headers", check: checkHeader, token: claimsEdit(func(jwt.MapClaims, *env) {}),
			send: func(tok string) []string { return []string{"Bearer " + tok, "Bearer " + tok} }},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newReadyEnv(t, nil)
			var headers []string
			var presented string
			switch {
			case tt.token == nil:
				headers = tt.header
			case tt.send != nil:
				presented = tt.token(t, e)
				headers = tt.send(presented)
			default:
				presented = tt.token(t, e)
				headers = []string{"Bearer " + presented}
			}
			before := e.entra.jwksHits.Load()

			err := e.auth.Authenticate(request(headers...))

			if tt.check == "" {
				if err != nil {
					t.Fatalf("Authenticate: %v, want it accepted", err)
				}
			} else {
				status := tt.status
				if status == 0 {
					status = http.StatusUnauthorized
				}
				if tt.noToken {
					presented = ""
				}
				wantError(t, err, tt.check, status, presented)
			}
			// Only a token that passed every cheap check costs an RSA
			// verification.
			wantVerifies := int64(0)
			if tt.check == "" || tt.check == checkSignature {
				wantVerifies = 1
			}
			if got := e.auth.verifies.Load(); got != wantVerifies {
				t.Errorf("%d signature verifications, want %d", got, wantVerifies)
			}
			// Only an unknown kid may fetch keys (TestUnknownKid).
			if got := e.entra.jwksHits.Load() - before; got != 0 {
				t.Errorf("the JWKS was fetched %d times, want 0", got)
			}
		})
	}
}

// TestVerifiedBeforeTrusted shows that the cheap checks only ever reject:
// a token whose claims are perfect is still refused when its signature is
// not the tenant's, and is not cached.
func TestVerifiedBeforeTrusted(t *testing.T) {
	t.Parallel()
	e := newReadyEnv(t, nil)
	forged := sign(t, jwt.SigningMethodRS256, loadTestKeys().unpublished, "main", e.v2Claims())
	for range 2 {
		wantError(t, e.auth.Authenticate(request("Bearer "+forged)), checkSignature, 401, forged)
	}
	if n := e.auth.verifies.Load(); n != 2 {
		t.Errorf("%d signature verifications, want 2 (a rejected token must not be cached)", n)
	}
}

func TestAudienceSettingAsAppIDURI(t *testing.T) {
	t.Parallel()
	e := newReadyEnv(t, func(f *fakeEntra, o *Options, _ *tuning) {
		getenv := o.Getenv
		o.Getenv = func(k string) string {
			if k == "ENTRA_AUDIENCE" {
				return "api://invitegate-fn.azurewebsites.net/" + strings.ToUpper(testAudience)
			}
			return getenv(k)
		}
	})
	if err := e.auth.Authenticate(request("Bearer " + e.valid(t, nil))); err != nil {
		t.Fatalf("v2 token with the GUID audience: %v", err)
	}
	tok := e.valid(t, func(c jwt.MapClaims) { c["aud"] = otherApp })
	wantError(t, e.auth.Authenticate(request("Bearer "+tok)), checkAud, 401, tok)
}
