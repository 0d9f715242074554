package entraauth

import (
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// claims are the parts of an Entra access token that are checked.
type claims struct {
	jwt.RegisteredClaims        // iss, aud, exp, nbf
	Ver                  string `json:"ver"`   // "1.0" or "2.0"
	Azp                  string `json:"azp"`   // v2: the client that asked for the token
	AppID                string `json:"appid"` // v1: the same
	Tid                  string `json:"tid"`   // tenant
}

// authenticateJWT checks the bearer token like go-oidc does: the cheap
// checks first, on claims that are not yet trusted, so a token that would
// fail anyway costs no RSA work and cannot make us refresh keys; then the
// signature; then the checks again on the now verified claims, which alone
// decide acceptance.
func (a *Authenticator) authenticateJWT(r *http.Request) *Error {
	raw, e := bearerToken(r)
	if e != nil {
		return e
	}
	now := a.now()
	sum := sha256.Sum256([]byte(raw))
	if a.cache.valid(sum, now) {
		return nil
	}

	var c claims
	tok, _, err := a.parser.ParseUnverified(raw, &c)
	if tok == nil || tok.Header == nil {
		return reject(CheckMalformed, "the bearer token is not a JWT", errText(err))
	}
	if alg, _ := tok.Header["alg"].(string); alg != "RS256" {
		return reject(CheckAlgorithm, "the token is not signed with RS256", "alg is "+q(fmt.Sprint(tok.Header["alg"]))+", want \"RS256\"")
	}
	if err != nil {
		return reject(CheckMalformed, "the bearer token is not a JWT", errText(err))
	}
	kid, _ := tok.Header["kid"].(string)
	if kid == "" {
		return reject(CheckUnknownKey, "the token names no signing key", "the header has no kid")
	}
	if e := a.checkTime(&c); e != nil {
		return e
	}
	snap := a.keys.current()
	if e := a.checkClaims(&c, snap, true); e != nil {
		return e
	}

	key, e := a.keyFor(r, kid, snap)
	if e != nil {
		return e
	}

	var vc claims
	a.verifies.Add(1)
	if _, err := a.parser.ParseWithClaims(raw, &vc, func(*jwt.Token) (any, error) { return key, nil }); err != nil {
		return parseError(err, &vc)
	}
	if e := a.checkClaims(&vc, a.keys.current(), false); e != nil {
		return e
	}
	a.cache.add(sum, vc.ExpiresAt.Time, kid, now)
	return nil
}

// bearerToken returns the token of the Authorization header.
func bearerToken(r *http.Request) (string, *Error) {
	vals := r.Header.Values("Authorization")
	if len(vals) == 0 || strings.TrimSpace(vals[0]) == "" {
		return "", missing(CheckMissingToken, "no bearer token", "no Authorization header")
	}
	if len(vals) > 1 {
		return "", reject(CheckMalformed, "more than one Authorization header", fmt.Sprintf("%d Authorization headers", len(vals)))
	}
	scheme, tok, _ := strings.Cut(strings.TrimSpace(vals[0]), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", missing(CheckMissingToken, "no bearer token", "the Authorization scheme is "+q(scheme)+", want Bearer")
	}
	tok = strings.TrimSpace(tok)
	if tok == "" {
		return "", missing(CheckMissingToken, "no bearer token", "the Bearer credentials are empty")
	}
	if len(tok) > maxTokenLen {
		return "", reject(CheckMalformed, "the bearer token is too long", fmt.Sprintf("%d bytes, at most %d", len(tok), maxTokenLen))
	}
	return tok, nil
}

// checkTime checks exp (required) and nbf, with clockSkew leeway.
func (a *Authenticator) checkTime(c *claims) *Error {
	if err := a.timeCheck.Validate(c); err != nil {
		return parseError(err, c)
	}
	return nil
}

// checkClaims checks who issued the token, for whom, at whose request.
// snap, when not nil, adds the discovery document's issuer. Before any
// discovery document has loaded that issuer is unknown, so an early check
// lets any iss through and the final one, after the keys arrive, decides.
func (a *Authenticator) checkClaims(c *claims, snap *keySnapshot, early bool) *Error {
	if !a.issuerOK(c.Issuer, snap) && !(early && snap == nil) {
		return reject(CheckIssuer, "the token was not issued by this tenant", "iss is "+q(c.Issuer)+", want "+a.issuerRule(snap))
	}
	if c.Tid != "" && !strings.EqualFold(c.Tid, a.set.tenant) {
		return reject(CheckTenant, "the token is for another tenant", "tid is "+q(c.Tid)+", want "+a.set.tenant)
	}
	if !slices.ContainsFunc(c.Audience, a.audienceOK) {
		return reject(CheckAudience, "the token is not for this extension", "aud is "+q(strings.Join(c.Audience, " "))+", want "+a.set.audience+" or api://{host}/"+a.set.audience)
	}
	return checkCaller(c.Ver, c.Azp, c.AppID)
}

// audienceOK accepts the client id (v2 tokens) and the App ID URI
// api://{host}/{client id} (v1 tokens).
func (a *Authenticator) audienceOK(aud string) bool {
	if strings.EqualFold(aud, a.set.audience) {
		return true
	}
	id, ok := appIDURIClientID(aud)
	return ok && id == a.set.audience
}

// checkCaller requires that the token was requested by the authentication
// events service: azp in v2 tokens, appid in v1 ones, and whichever is
// present when ver is missing.
func checkCaller(ver, azp, appid string) *Error {
	var name, got string
	switch ver {
	case "2.0":
		name, got = "azp", azp
	case "1.0":
		name, got = "appid", appid
	case "":
		name, got = "azp", azp
		if azp == "" {
			name, got = "appid", appid
		}
	default:
		return reject(CheckVersion, "unknown token version", "ver is "+q(ver)+", want \"1.0\" or \"2.0\"")
	}
	if !strings.EqualFold(got, EventsAppID) {
		return reject(CheckCaller, "the token was not requested by Microsoft Entra's authentication events service", name+" is "+q(got)+", want "+EventsAppID)
	}
	return nil
}

// keyFor returns the RSA key named kid. An unknown kid may mean Entra has
// rotated its keys, so it triggers a refresh (rate limited) and waits for it
// at most maxWait.
func (a *Authenticator) keyFor(r *http.Request, kid string, snap *keySnapshot) (*rsa.PublicKey, *Error) {
	k, ok := lookup(snap, kid)
	if !ok {
		var waited error
		if f := a.keys.refreshForUnknownKid(); f != nil {
			waited = waitFor(r.Context(), f, a.maxWait)
		}
		snap = a.keys.current()
		if k, ok = lookup(snap, kid); !ok {
			if snap == nil {
				return nil, a.noKeys(waited)
			}
			return nil, reject(CheckUnknownKey, "the token's signing key is not one of the tenant's", "no key has kid "+q(kid))
		}
	}
	if why := usableForRS256(k); why != "" {
		return nil, reject(CheckUnusableKey, "the token's signing key may not sign RS256 tokens", "key "+q(kid)+" "+why)
	}
	return k.pub.(*rsa.PublicKey), nil
}

func lookup(snap *keySnapshot, kid string) (jwk, bool) {
	if snap == nil {
		return jwk{}, false
	}
	k, ok := snap.keys[kid]
	return k, ok
}

// usableForRS256 says why k may not verify an RS256 signature, or "".
func usableForRS256(k jwk) string {
	pub, ok := k.pub.(*rsa.PublicKey)
	switch {
	case !ok:
		return "is of type " + q(k.kty) + ", want RSA"
	case k.use != "" && k.use != "sig":
		return "has use " + q(k.use) + ", want sig"
	case k.alg != "" && k.alg != "RS256":
		return "declares alg " + q(k.alg) + ", want RS256"
	case pub.N.BitLen() < 2048:
		return fmt.Sprintf("has %d bits, want at least 2048", pub.N.BitLen())
	}
	return ""
}

// noKeys is the 503 for a request that needs keys before any have loaded.
// It logs why, at most once per noKeysLogEvery.
func (a *Authenticator) noKeys(waited error) *Error {
	cause := a.keys.lastError()
	detail := "the tenant's signing keys have not loaded yet"
	if cause != nil {
		detail += "; last fetch: " + cause.Error()
	} else if waited != nil {
		detail += fmt.Sprintf("; the first fetch took longer than %v", a.maxWait)
	}
	if a.noKeysLog.allow(a.now()) {
		a.log.Error().AnErr("fetch_error", cause).Str("discovery", a.keys.discoveryURL).
			Msg("entraauth: answering 503: the tenant's signing keys have never loaded")
	}
	return &Error{check: CheckKeysUnavailable, reason: "signing keys not loaded yet, try again", detail: detail, status: http.StatusServiceUnavailable, withToken: true}
}

// parseError turns a golang-jwt error into an *Error naming the check.
func parseError(err error, c *claims) *Error {
	switch {
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return reject(CheckSignature, "the token's signature does not verify", errText(err))
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return reject(CheckExpired, "the token has no expiry", "exp is missing")
	case errors.Is(err, jwt.ErrTokenExpired):
		return reject(CheckExpired, "the token has expired", "exp is "+c.ExpiresAt.UTC().Format(time.RFC3339)+", "+clockSkew.String()+" clock skew allowed")
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return reject(CheckNotYetValid, "the token is not valid yet", "nbf is "+c.NotBefore.UTC().Format(time.RFC3339)+", "+clockSkew.String()+" clock skew allowed")
	}
	return reject(CheckMalformed, "the bearer token is not a valid JWT", errText(err))
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
