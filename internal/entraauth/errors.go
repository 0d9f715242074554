package entraauth

import (
	"net/http"
	"strconv"
)

// The values of Error.Check: a closed set of short, stable words, one per
// check, for logs and dashboards that count refusals by check. Checks
// returns them all.
//
//   - missing_token: no Authorization header, not a Bearer one, or an
//     empty one.
//   - malformed: the token is not a JWT, is too long, or came in more
//     than one Authorization header.
//   - algorithm: the header's alg is not RS256.
//   - unknown_key: the header names no kid, or no key of the tenant has
//     that kid (after a refresh, at most once per few minutes).
//   - unusable_key: the tenant's key with that kid may not verify an
//     RS256 signature (not RSA, another use or alg, under 2048 bits).
//   - signature: the signature does not verify with the tenant's key.
//   - expired: exp is past (beyond 5 minutes of clock skew), or missing.
//   - not_yet_valid: nbf is in the future (beyond the clock skew).
//   - issuer: iss is not one of this tenant's issuers.
//   - audience: aud is not this extension's app registration.
//   - caller: azp (v2) or appid (v1) is not the authentication events
//     service, EventsAppID.
//   - version: ver is neither "1.0" nor "2.0".
//   - tenant: tid is another tenant's.
//   - principal: easyauth mode, X-MS-CLIENT-PRINCIPAL is missing,
//     unreadable or ambiguous.
//   - identity_provider: easyauth mode, the principal did not sign in
//     through Microsoft Entra.
//   - keys_unavailable: the tenant's signing keys have never loaded, so
//     the token cannot be judged yet (HTTP 503, not 401).
const (
	CheckMissingToken     = "missing_token"
	CheckMalformed        = "malformed"
	CheckAlgorithm        = "algorithm"
	CheckUnknownKey       = "unknown_key"
	CheckUnusableKey      = "unusable_key"
	CheckSignature        = "signature"
	CheckExpired          = "expired"
	CheckNotYetValid      = "not_yet_valid"
	CheckIssuer           = "issuer"
	CheckAudience         = "audience"
	CheckCaller           = "caller"
	CheckVersion          = "version"
	CheckTenant           = "tenant"
	CheckPrincipal        = "principal"
	CheckIdentityProvider = "identity_provider"
	CheckKeysUnavailable  = "keys_unavailable"
)

// Checks returns every value Error.Check may have, in the order of the
// checks' documentation.
func Checks() []string {
	return []string{
		CheckMissingToken, CheckMalformed, CheckAlgorithm, CheckUnknownKey, CheckUnusableKey,
		CheckSignature, CheckExpired, CheckNotYetValid, CheckIssuer, CheckAudience, CheckCaller,
		CheckVersion, CheckTenant, CheckPrincipal, CheckIdentityProvider, CheckKeysUnavailable,
	}
}

// Error is why Authenticate refused a request. Its text says which check
// failed and quotes expected and actual values, for the log only: it is
// never sent to the caller, who gets the same answer whatever check failed
// (a caller must not learn whether its guessed tenant or audience was
// right). It never contains the token.
type Error struct {
	check     string
	reason    string // what was wrong, in words
	detail    string // expected and actual values
	status    int    // 0 means 401
	withToken bool   // a token (or principal) was presented
}

// Check names the check that failed: one of the Check* constants.
func (e *Error) Check() string { return e.check }

// Error returns "entraauth: " and the check, what was wrong, and the
// expected and actual values.
func (e *Error) Error() string {
	s := "entraauth: " + e.check + ": " + e.reason
	if e.detail != "" {
		s += ": " + e.detail
	}
	return s
}

// HTTPStatus is 401, or 503 while no signing keys have ever been loaded:
// then the caller did nothing wrong and should try again.
func (e *Error) HTTPStatus() int {
	if e.status == 0 {
		return http.StatusUnauthorized
	}
	return e.status
}

// WWWAuthenticate is the challenge to send with the response (RFC 6750
// section 3). It is "Bearer" when no token was presented, or when the
// token could not be judged yet (503), and otherwise
// `Bearer error="invalid_token"`, the same for every check.
func (e *Error) WWWAuthenticate() string {
	if !e.withToken || e.HTTPStatus() != http.StatusUnauthorized {
		return "Bearer"
	}
	return `Bearer error="invalid_token"`
}

// reject is a 401 for a presented token.
func reject(check, reason, detail string) *Error {
	return &Error{check: check, reason: reason, detail: detail, withToken: true}
}

// missing is a 401 for a request that presented no token.
func missing(check, reason, detail string) *Error {
	return &Error{check: check, reason: reason, detail: detail}
}

// q quotes an untrusted value for the detail, cut short so that a hostile
// token cannot flood the log.
func q(s string) string {
	const max = 100
	if len(s) > max {
		return strconv.Quote(s[:max]) + "..."
	}
	return strconv.Quote(s)
}
