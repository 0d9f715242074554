package entraauth_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/invitegate/invitegate/internal/entraauth"
	"github.com/invitegate/invitegate/internal/entraauth/entratest"
)

func TestRepeatTokenIsNotVerifiedAgain(t *testing.T) {
	t.Parallel()
	e := newReadyEnv(t, nil)
	tok := e.token()
	for i := range 3 {
		if err := e.auth.Authenticate(request("Bearer " + tok)); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if n := e.auth.Verifies(); n != 1 {
		t.Errorf("%d signature verifications for three calls with one token, want 1", n)
	}
}

func TestCachedTokenExpires(t *testing.T) {
	t.Parallel()
	e := newReadyEnv(t, nil)
	tok := e.token(entratest.WithExpiry(e.clock.Now().Add(time.Hour)))
	if err := e.auth.Authenticate(request("Bearer " + tok)); err != nil {
		t.Fatal(err)
	}

	// Past exp the cache no longer answers; the full checks do, and they
	// still allow the clock skew...
	e.clock.Add(time.Hour + time.Minute)
	if err := e.auth.Authenticate(request("Bearer " + tok)); err != nil {
		t.Fatalf("a minute after exp: %v, want accepted within the clock skew", err)
	}
	if n := e.auth.Verifies(); n != 2 {
		t.Errorf("%d signature verifications, want 2: past exp the cache must not answer", n)
	}
	// ...but not more.
	e.clock.Add(entraauth.ClockSkew)
	wantError(t, e.auth.Authenticate(request("Bearer "+tok)), entraauth.CheckExpired, http.StatusUnauthorized, tok)
}

func TestCachedTokenOfWithdrawnKey(t *testing.T) {
	t.Parallel()
	e := newReadyEnv(t, nil)
	tok := e.token()
	if err := e.auth.Authenticate(request("Bearer " + tok)); err != nil {
		t.Fatal(err)
	}
	// Entra withdraws the key that signed the token.
	e.tenant.Rotate(false)
	if err := e.auth.Refresh(t.Context()); err != nil {
		t.Fatalf("refresh: %v", err)
	}
	wantError(t, e.auth.Authenticate(request("Bearer "+tok)), entraauth.CheckUnknownKey, http.StatusUnauthorized, tok)
}

func TestConcurrentAuthenticate(t *testing.T) {
	t.Parallel()
	e := newReadyEnv(t, nil)
	tokens := make([]string, 8)
	for i := range tokens {
		tokens[i] = e.token(entratest.WithClaim("jti", fmt.Sprint(i)))
	}
	var wg sync.WaitGroup
	for i := range 400 {
		wg.Go(func() {
			if err := e.auth.Authenticate(request("Bearer " + tokens[i%len(tokens)])); err != nil {
				t.Error(err)
			}
		})
	}
	// A refresh racing with the requests.
	wg.Go(func() {
		if err := e.auth.Refresh(t.Context()); err != nil {
			t.Error(err)
		}
	})
	wg.Wait()
	if n := e.auth.Verifies(); n < int64(len(tokens)) || n > 400 {
		t.Errorf("%d verifications", n)
	}
}
