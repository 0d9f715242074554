package entraauth_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/invitegate/invitegate/internal/entraauth"
	"github.com/invitegate/invitegate/internal/entraauth/entratest"
)

// TestAuthenticateJWT runs one signed token, or one Authorization header,
// per case through an Authenticator that loaded real keys over HTTP. Each
// rejection must come from its own check, so removing a check fails its
// case.
func TestAuthenticateJWT(t *testing.T) {
	t.Parallel()
	k := loadTestKeys()

	// opts builds the options of a case's token from the env (for times
	// relative to its clock).
	type opts func(e *env) []entratest.TokenOption
	with := func(o ...entratest.TokenOption) opts { return func(*env) []entratest.TokenOption { return o } }
	at := func(f func(now time.Time) entratest.TokenOption) opts {
		return func(e *env) []entratest.TokenOption { return []entratest.TokenOption{f(e.clock.Now())} }
	}
	v1 := entratest.V1("invitegate-fn.azurewebsites.net")

	tests := []struct {
		name    string
		token   opts                      // minted and sent as "Bearer <token>"
		raw     func(e *env) string       // the token, instead of token
		send    func(tok string) []string // the Authorization headers for the token, instead
		header  []string                  // sent instead, when token and raw are nil
		check   string                    // "" means accepted
		status  int                       // 0 means 401
		noToken bool                      // no token was presented: plain Bearer challenge
	}{
		{name: "valid v2", token: with()},
		{name: "valid v1 (appid, sts.windows.net, api:// audience)", token: with(v1)},
		{name: "no ver, azp", token: with(entratest.WithoutClaims("ver"))},
		{name: "no ver, appid", token: with(entratest.WithoutClaims("ver", "azp"), entratest.WithAppID(entraauth.EventsAppID))},
		{name: "no tid", token: with(entratest.WithoutClaims("tid"))},
		{name: "aud list containing ours", token: with(entratest.WithClaim("aud", []string{otherApp, testAudience}))},
		{name: "upper-case azp and tid", token: with(entratest.WithAzp(strings.ToUpper(entraauth.EventsAppID)), entratest.WithTenant(strings.ToUpper(testTenant)))},
		{name: "lower-case bearer scheme", token: with(), send: func(tok string) []string { return []string{"bearer " + tok} }},
		{name: "expired beyond skew", check: entraauth.CheckExpired, token: at(func(now time.Time) entratest.TokenOption {
			return entratest.WithExpiry(now.Add(-6 * time.Minute))
		})},
		{name: "expired within skew", token: at(func(now time.Time) entratest.TokenOption {
			return entratest.WithExpiry(now.Add(-4 * time.Minute))
		})},
		{name: "no exp", check: entraauth.CheckExpired, token: with(entratest.WithoutClaims("exp"))},
		{name: "not yet valid beyond skew", check: entraauth.CheckNotYetValid, token: at(func(now time.Time) entratest.TokenOption {
			return entratest.WithNotBefore(now.Add(6 * time.Minute))
		})},
		{name: "not yet valid within skew", token: at(func(now time.Time) entratest.TokenOption {
			return entratest.WithNotBefore(now.Add(4 * time.Minute))
		})},
		{name: "wrong audience", check: entraauth.CheckAudience, token: with(entratest.WithAudience(otherApp))},
		{name: "App ID URI of another app", check: entraauth.CheckAudience, token: with(entratest.WithAudience("api://invitegate-fn.azurewebsites.net/" + otherApp))},
		{name: "no audience", check: entraauth.CheckAudience, token: with(entratest.WithoutClaims("aud"))},
		{name: "wrong azp", check: entraauth.CheckCaller, token: with(entratest.WithAzp(otherApp))},
		{name: "v2 without azp but with appid", check: entraauth.CheckCaller, token: with(entratest.WithoutClaims("azp"), entratest.WithAppID(entraauth.EventsAppID))},
		{name: "v1 with wrong appid", check: entraauth.CheckCaller, token: with(v1, entratest.WithAppID(otherApp),
			entratest.WithAzp(entraauth.EventsAppID))}, // v1 must be judged by appid
		{name: "unknown ver", check: entraauth.CheckVersion, token: with(entratest.WithVersion("3.0"))},
		{name: "wrong issuer", check: entraauth.CheckIssuer, token: with(entratest.WithIssuer("https://evil.example/" + testTenant + "/v2.0"))},
		{name: "no issuer", check: entraauth.CheckIssuer, token: with(entratest.WithoutClaims("iss"))},
		{name: "other tenant's tid", check: entraauth.CheckTenant, token: with(entratest.WithTenant(otherTenant))},
		{name: "alg none", check: entraauth.CheckAlgorithm, token: with(entratest.WithAlg("none"))},
		{name: "HS256 keyed with the public key", check: entraauth.CheckAlgorithm, token: with(entratest.WithAlg("HS256"))},
		{name: "RS384", check: entraauth.CheckAlgorithm, token: with(entratest.WithAlg("RS384"))},
		{name: "PS256", check: entraauth.CheckAlgorithm, token: with(entratest.WithAlg("PS256"))},
		{name: "ES256 with a published EC key", check: entraauth.CheckAlgorithm, token: with(entratest.WithAlg("ES256"), entratest.SignedWith(k.ec), entratest.WithKID("ec"))},
		{name: "no kid", check: entraauth.CheckUnknownKey, token: with(entratest.WithKID(""))},
		{name: "kid of an EC key", check: entraauth.CheckUnusableKey, token: with(entratest.SignedWith(k.second), entratest.WithKID("ec"))},
		{name: "kid of a key declaring RS512", check: entraauth.CheckUnusableKey, token: with(entratest.SignedWith(k.second), entratest.WithKID("rs512"))},
		{name: "kid of an encryption key", check: entraauth.CheckUnusableKey, token: with(entratest.SignedWith(k.second), entratest.WithKID("enc"))},
		{name: "kid of a 1024-bit key", check: entraauth.CheckUnusableKey, token: with(entratest.SignedWith(k.small), entratest.WithKID("small"))},
		{name: "signed by another key under our kid", check: entraauth.CheckSignature, token: with(entratest.SignedWith(k.unpublished))},
		{name: "tampered payload", check: entraauth.CheckSignature, raw: func(e *env) string {
			parts := strings.Split(e.token(), ".")
			c := e.tenant.Claims(entratest.WithClaim("sub", "someone-else"))
			b, _ := json.Marshal(c)
			parts[1] = base64.RawURLEncoding.EncodeToString(b)
			return strings.Join(parts, ".")
		}},
		{name: "garbage", check: entraauth.CheckMalformed, raw: func(*env) string { return "not-a-jwt" }},
		{name: "garbage in three parts", check: entraauth.CheckMalformed, raw: func(*env) string { return "!!!.e30.e30" }},
		{name: "longer than 16 KiB", check: entraauth.CheckMalformed, token: with(entratest.WithClaim("pad", strings.Repeat("x", 16<<10)))},
		{name: "no Authorization header", check: entraauth.CheckMissingToken, header: []string{}, noToken: true},
		{name: "Bearer without a token", check: entraauth.CheckMissingToken, header: []string{"Bearer "}, noToken: true},
		{name: "Basic scheme", check: entraauth.CheckMissingToken, header: []string{"Basic dXNlcjpwYXNz"}, noToken: true},
		{name: "two Authorization headers", check: entraauth.CheckMalformed, token: with(),
			send: func(tok string) []string { return []string{"Bearer " + tok, "Bearer " + tok} }},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newReadyEnv(t, nil)
			var headers []string
			var presented string
			switch {
			case tt.token != nil:
				presented = e.token(tt.token(e)...)
			case tt.raw != nil:
				presented = tt.raw(e)
			}
			switch {
			case presented == "":
				headers = tt.header
			case tt.send != nil:
				headers = tt.send(presented)
			default:
				headers = []string{"Bearer " + presented}
			}
			before := e.tenant.JWKSFetches()

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
			if tt.check == "" || tt.check == entraauth.CheckSignature {
				wantVerifies = 1
			}
			if got := e.auth.Verifies(); got != wantVerifies {
				t.Errorf("%d signature verifications, want %d", got, wantVerifies)
			}
			// Only an unknown kid may fetch keys (TestUnknownKid...).
			if got := e.tenant.JWKSFetches() - before; got != 0 {
				t.Errorf("the JWKS was fetched %d times, want 0", got)
			}
		})
	}
}

// TestIssuerForms runs tokens with each form of iss through the
// Authenticator. Entra's docs give https://{tenant-domain}.ciamlogin.com/
// {tenant-id}/v2.0 for External ID, the discovery document gives the
// tenant-id host, and each of them must name this tenant. An accepted form
// is still refused when the token is not signed with this tenant's keys.
func TestIssuerForms(t *testing.T) {
	t.Parallel()
	const tid = testTenant
	// other is another tenant, with its own keys, whose tokens claim an
	// issuer form that names our tenant.
	other := entratest.NewTenant(entratest.WithTenantID(otherTenant), entratest.WithClock(newClock().Now))
	t.Cleanup(other.Close)

	tests := []struct {
		name  string
		iss   string
		forge bool   // minted by other, not by our tenant
		kid   string // with forge: the kid in the header ("" means other's own)
		check string // "" means accepted
	}{
		{name: "tenant-id host", iss: "https://" + tid + ".ciamlogin.com/" + tid + "/v2.0"},
		{name: "tenant-domain host", iss: "https://contoso.ciamlogin.com/" + tid + "/v2.0"},
		{name: "tenant-domain host with digits and hyphens", iss: "https://contoso-members-2.ciamlogin.com/" + tid + "/v2.0"},
		{name: "host in upper case", iss: "https://Contoso.CIAMLOGIN.com/" + tid + "/v2.0"},
		{name: "punycode label", iss: "https://xn--bcher-kva.ciamlogin.com/" + tid + "/v2.0"},
		{name: "workforce", iss: "https://login.microsoftonline.com/" + tid + "/v2.0"},
		{name: "v1", iss: "https://sts.windows.net/" + tid + "/"},
		{name: "discovery document's issuer", iss: ""},

		{name: "tenant-domain host, another tenant in the path", iss: "https://contoso.ciamlogin.com/" + otherTenant + "/v2.0", check: entraauth.CheckIssuer},
		{name: "tenant-id host of another tenant", iss: "https://" + otherTenant + ".ciamlogin.com/" + otherTenant + "/v2.0", check: entraauth.CheckIssuer},
		{name: "our host, another tenant in the path", iss: "https://" + tid + ".ciamlogin.com/" + otherTenant + "/v2.0", check: entraauth.CheckIssuer},
		{name: "workforce, another tenant", iss: "https://login.microsoftonline.com/" + otherTenant + "/v2.0", check: entraauth.CheckIssuer},
		{name: "two labels", iss: "https://a.b.ciamlogin.com/" + tid + "/v2.0", check: entraauth.CheckIssuer},
		{name: "no label", iss: "https://ciamlogin.com/" + tid + "/v2.0", check: entraauth.CheckIssuer},
		{name: "empty label", iss: "https://.ciamlogin.com/" + tid + "/v2.0", check: entraauth.CheckIssuer},
		{name: "ends in ciamlogin.com without the dot", iss: "https://evilciamlogin.com/" + tid + "/v2.0", check: entraauth.CheckIssuer},
		{name: "ciamlogin.com inside another domain", iss: "https://contoso.ciamlogin.com.evil.example/" + tid + "/v2.0", check: entraauth.CheckIssuer},
		{name: "label with an underscore", iss: "https://contoso_x.ciamlogin.com/" + tid + "/v2.0", check: entraauth.CheckIssuer},
		{name: "label starting with a hyphen", iss: "https://-contoso.ciamlogin.com/" + tid + "/v2.0", check: entraauth.CheckIssuer},
		{name: "label longer than 63", iss: "https://" + strings.Repeat("a", 64) + ".ciamlogin.com/" + tid + "/v2.0", check: entraauth.CheckIssuer},
		{name: "http", iss: "http://contoso.ciamlogin.com/" + tid + "/v2.0", check: entraauth.CheckIssuer},
		{name: "scheme in upper case", iss: "HTTPS://contoso.ciamlogin.com/" + tid + "/v2.0", check: entraauth.CheckIssuer},
		{name: "port", iss: "https://contoso.ciamlogin.com:443/" + tid + "/v2.0", check: entraauth.CheckIssuer},
		{name: "userinfo", iss: "https://user@contoso.ciamlogin.com/" + tid + "/v2.0", check: entraauth.CheckIssuer},
		{name: "userinfo naming a good host", iss: "https://contoso.ciamlogin.com@evil.example/" + tid + "/v2.0", check: entraauth.CheckIssuer},
		{name: "query", iss: "https://contoso.ciamlogin.com/" + tid + "/v2.0?x=1", check: entraauth.CheckIssuer},
		{name: "fragment", iss: "https://contoso.ciamlogin.com/" + tid + "/v2.0#x", check: entraauth.CheckIssuer},
		{name: "trailing slash", iss: "https://contoso.ciamlogin.com/" + tid + "/v2.0/", check: entraauth.CheckIssuer},
		{name: "v1.0 path", iss: "https://contoso.ciamlogin.com/" + tid + "/v1.0", check: entraauth.CheckIssuer},
		{name: "extra path segment", iss: "https://contoso.ciamlogin.com/x/" + tid + "/v2.0", check: entraauth.CheckIssuer},
		{name: "no tenant in the path", iss: "https://contoso.ciamlogin.com//v2.0", check: entraauth.CheckIssuer},
		{name: "leading space", iss: " https://contoso.ciamlogin.com/" + tid + "/v2.0", check: entraauth.CheckIssuer},

		{name: "tenant-domain form signed by another tenant's key", iss: "https://contoso.ciamlogin.com/" + tid + "/v2.0", forge: true, check: entraauth.CheckUnknownKey},
		{name: "tenant-id form signed by another tenant's key", iss: "https://" + tid + ".ciamlogin.com/" + tid + "/v2.0", forge: true, check: entraauth.CheckUnknownKey},
		{name: "tenant-domain form signed by another tenant's key under our kid", iss: "https://contoso.ciamlogin.com/" + tid + "/v2.0", forge: true, kid: "main", check: entraauth.CheckSignature},
		{name: "workforce form signed by another tenant's key under our kid", iss: "https://login.microsoftonline.com/" + tid + "/v2.0", forge: true, kid: "main", check: entraauth.CheckSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newReadyEnv(t, nil)
			opts := []entratest.TokenOption{entratest.WithTenant(tid)}
			if tt.iss != "" {
				opts = append(opts, entratest.WithIssuer(tt.iss))
			}
			var tok string
			if tt.forge {
				if tt.kid != "" {
					opts = append(opts, entratest.WithKID(tt.kid))
				}
				tok = other.Token(opts...)
			} else {
				tok = e.token(opts...)
			}
			err := e.auth.Authenticate(request("Bearer " + tok))
			if tt.check == "" {
				if err != nil {
					t.Fatalf("iss %q: %v, want accepted", tt.iss, err)
				}
				return
			}
			wantError(t, err, tt.check, http.StatusUnauthorized, tok)
		})
	}
}

// TestVerifiedBeforeTrusted shows that the cheap checks only ever reject:
// a token whose claims are perfect is still refused when its signature is
// not the tenant's, and is not cached.
func TestVerifiedBeforeTrusted(t *testing.T) {
	t.Parallel()
	e := newReadyEnv(t, nil)
	forged := e.token(entratest.SignedWith(loadTestKeys().unpublished))
	for range 2 {
		wantError(t, e.auth.Authenticate(request("Bearer "+forged)), entraauth.CheckSignature, 401, forged)
	}
	if n := e.auth.Verifies(); n != 2 {
		t.Errorf("%d signature verifications, want 2 (a rejected token must not be cached)", n)
	}
}

func TestAudienceSettingAsAppIDURI(t *testing.T) {
	t.Parallel()
	e := newReadyEnv(t, func(_ *entratest.Tenant, c *entraauth.Config, _ *entraauth.Options, _ *entraauth.Tuning) {
		c.Audience = "api://invitegate-fn.azurewebsites.net/" + strings.ToUpper(testAudience)
	})
	if err := e.auth.Authenticate(request("Bearer " + e.token())); err != nil {
		t.Fatalf("v2 token with the GUID audience: %v", err)
	}
	tok := e.token(entratest.WithAudience(otherApp))
	wantError(t, e.auth.Authenticate(request("Bearer "+tok)), entraauth.CheckAudience, 401, tok)
}

// TestRefusalsLookAlike shows that the caller learns nothing from a
// refusal but that it was refused: whatever check failed, the status and
// the challenge are the same. Only the log (Error, Check) tells them apart.
func TestRefusalsLookAlike(t *testing.T) {
	t.Parallel()
	e := newReadyEnv(t, nil)
	tokens := map[string]string{
		entraauth.CheckAudience:  e.token(entratest.WithAudience(otherApp)),
		entraauth.CheckTenant:    e.token(entratest.WithTenant(otherTenant)),
		entraauth.CheckIssuer:    e.token(entratest.WithIssuer("https://contoso.ciamlogin.com/" + otherTenant + "/v2.0")),
		entraauth.CheckCaller:    e.token(entratest.WithAzp(otherApp)),
		entraauth.CheckSignature: e.token(entratest.SignedWith(loadTestKeys().unpublished)),
		entraauth.CheckMalformed: "not-a-jwt",
	}
	type seen struct {
		status    int
		challenge string
	}
	var first *seen
	for check, tok := range tokens {
		err := wantError(t, e.auth.Authenticate(request("Bearer "+tok)), check, http.StatusUnauthorized, tok)
		got := seen{err.HTTPStatus(), err.WWWAuthenticate()}
		if first == nil {
			first = &got
		} else if got != *first {
			t.Errorf("check %s answers %+v, another check %+v", check, got, *first)
		}
	}
}
