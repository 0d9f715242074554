package server

import (
	"net/http"
)

// Authenticator proves that a request comes from Microsoft Entra's
// authentication-events service for this tenant and extension. It runs
// before the body is read. An error may implement HTTPStatus() int (401 or
// 503; 401 when it does not) and WWWAuthenticate() string (the challenge to
// send). Its Error() text is logged and must never contain the token.
type Authenticator interface {
	Authenticate(r *http.Request) error
}

// AuthenticatorFunc adapts a function to Authenticator.
type AuthenticatorFunc func(r *http.Request) error

// Authenticate calls f(r).
func (f AuthenticatorFunc) Authenticate(r *http.Request) error { return f(r) }
