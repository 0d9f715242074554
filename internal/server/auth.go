package server

import (
	"net/http"
)

// Authenticator proves that a request comes from Microsoft Entra's
// authentication-events service for this tenant and extension. It runs
// before the body is read. An error may implement HTTPStatus() int (401 or
// 503; 401 when it does not), WWWAuthenticate() string (the challenge to
// send, which must not depend on which check failed) and Check() string
// (a short word naming the failed check, for the log). Its Error() text is
// logged, never sent, and must never contain the token: the caller gets
// the same body for every refused token.
type Authenticator interface {
	Authenticate(r *http.Request) error
}

// AuthenticatorFunc adapts a function to Authenticator.
type AuthenticatorFunc func(r *http.Request) error

// Authenticate calls f(r).
func (f AuthenticatorFunc) Authenticate(r *http.Request) error { return f(r) }
