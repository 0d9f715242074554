package entraauth

import (
	"net/http"
	"strconv"
	"strings"
)

// The values of Error.Check.
const (
	checkHeader    = "header"    // no Authorization header, or not a Bearer one
	checkToken     = "token"     // not a JWT, or too long
	checkAlg       = "alg"       // header alg is not RS256
	checkKid       = "kid"       // no kid, or no key with that kid
	checkKey       = "key"       // the key with that kid may not verify RS256
	checkKeys      = "keys"      // no signing keys have ever been loaded (503)
	checkSignature = "signature" // the signature does not verify
	checkExp       = "exp"       // expired, or no exp
	checkNbf       = "nbf"       // not valid yet
	checkIss       = "iss"       // issuer is not this tenant's
	checkAud       = "aud"       // not issued for this extension's app
	checkAzp       = "azp"       // not requested by the authentication events service
	checkVer       = "ver"       // unknown token version
	checkTid       = "tid"       // another tenant
	checkPrincipal = "principal" // easyauth: X-MS-CLIENT-PRINCIPAL missing or unreadable
	checkIdp       = "idp"       // easyauth: not signed in through Microsoft Entra
)

// Error is why Authenticate refused a request. It never contains the token.
type Error struct {
	// Check names the check that failed: header, token, alg, kid, key,
	// keys, signature, exp, nbf, iss, aud, azp, ver, tid, principal or idp.
	Check string

	// Reason says briefly what was wrong; it is safe to send to the caller.
	Reason string

	// Detail gives the expected and actual values for the log.
	Detail string

	status    int  // 0 means 401
	withToken bool // a token (or principal) was presented
}

// Error returns the check, the reason and the detail.
func (e *Error) Error() string {
	s := "entraauth: " + e.Check + ": " + e.Reason
	if e.Detail != "" {
		s += ": " + e.Detail
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
// section 3): "Bearer" when no token was presented, or when the token could
// not be judged yet (503); otherwise it carries error="invalid_token" and
// the Reason.
func (e *Error) WWWAuthenticate() string {
	if !e.withToken || e.HTTPStatus() != http.StatusUnauthorized {
		return "Bearer"
	}
	return `Bearer error="invalid_token", error_description="` + challengeText(e.Reason) + `"`
}

// reject is a 401 for a presented token.
func reject(check, reason, detail string) *Error {
	return &Error{Check: check, Reason: reason, Detail: detail, withToken: true}
}

// challengeText keeps only the characters RFC 6750 allows in
// error_description (printable ASCII except '"' and '\').
func challengeText(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '"' || r == '\\':
			return '\''
		case r < 0x20 || r > 0x7e:
			return -1
		}
		return r
	}, s)
}

// q quotes an untrusted value for Detail, cut short so that a hostile token
// cannot flood the log.
func q(s string) string {
	const max = 100
	if len(s) > max {
		return strconv.Quote(s[:max]) + "..."
	}
	return strconv.Quote(s)
}
