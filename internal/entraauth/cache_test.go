package entraauth

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestRepeatTokenIsNotVerifiedAgain(t *testing.T) {
	t.Parallel()
	e := newReadyEnv(t, nil)
	tok := e.valid(t, nil)
	for i := range 3 {
		if err := e.auth.Authenticate(request("Bearer " + tok)); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if n := e.auth.verifies.Load(); n != 1 {
		t.Errorf("%d signature verifications for three calls with one token, want 1", n)
	}
}

func TestCachedTokenExpires(t *testing.T) {
	t.Parallel()
	e := newReadyEnv(t, nil)
	exp := e.clock.Now().Add(time.Hour)
	tok := e.valid(t, func(c jwt.MapClaims) { c["exp"] = exp.Unix() })
	if err := e.auth.Authenticate(request("Bearer " + tok)); err != nil {
		t.Fatal(err)
	}

	// Past exp the cache no longer answers; the full checks do, and they
	// still allow the clock skew...
	e.clock.Add(time.Hour + time.Minute)
	if err := e.auth.Authenticate(request("Bearer " + tok)); err != nil {
		t.Fatalf("a minute after exp: %v, want accepted within the clock skew", err)
	}
	if n := e.auth.verifies.Load(); n != 2 {
		t.Errorf("%d signature verifications, want 2: past exp the cache must not answer", n)
	}
	// ...but not more.
	e.clock.Add(clockSkew)
	wantError(t, e.auth.Authenticate(request("Bearer "+tok)), checkExp, http.StatusUnauthorized, tok)
}

func TestCachedTokenOfWithdrawnKey(t *testing.T) {
	t.Parallel()
	e := newReadyEnv(t, nil)
	tok := e.valid(t, nil)
	if err := e.auth.Authenticate(request("Bearer " + tok)); err != nil {
		t.Fatal(err)
	}
	// Entra withdraws the key that signed the token.
	k := loadTestKeys()
	e.entra.publish(rsaJWK(t, "rotated", &k.second.PublicKey, true))
	if f := e.auth.keys.refresh(); waitFor(t.Context(), f, 5*time.Second) != nil || f.err != nil {
		t.Fatalf("refresh: %v", f.err)
	}
	wantError(t, e.auth.Authenticate(request("Bearer "+tok)), checkKid, http.StatusUnauthorized, tok)
}

func TestConcurrentAuthenticate(t *testing.T) {
	t.Parallel()
	e := newReadyEnv(t, nil)
	tokens := make([]string, 8)
	for i := range tokens {
		tokens[i] = e.valid(t, func(c jwt.MapClaims) { c["jti"] = fmt.Sprint(i) })
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
	wg.Go(func() { <-e.auth.keys.refresh().done })
	wg.Wait()
	if n := e.auth.verifies.Load(); n < int64(len(tokens)) || n > 400 {
		t.Errorf("%d verifications", n)
	}
}

func TestTokenCacheBound(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	h := func(i int) [sha256.Size]byte { return sha256.Sum256(fmt.Append(nil, i)) }
	c := newTokenCache(4)

	c.add(h(0), now.Add(time.Minute), "k", now)
	for i := 1; i < 4; i++ {
		c.add(h(i), now.Add(time.Hour+time.Duration(i)*time.Minute), "k", now)
	}
	// Full: an expired entry goes first.
	later := now.Add(2 * time.Minute)
	c.add(h(4), later.Add(time.Hour), "k", later)
	if c.len() != 4 || c.valid(h(0), now) {
		t.Fatalf("len %d, expired entry kept: %v", c.len(), c.valid(h(0), now))
	}
	// Full of live entries: the one expiring first goes.
	c.add(h(5), later.Add(2*time.Hour), "k", later)
	if c.len() != 4 || c.valid(h(1), later) || !c.valid(h(2), later) || !c.valid(h(5), later) {
		t.Fatalf("after evicting: len %d, h1 %v h2 %v h5 %v", c.len(), c.valid(h(1), later), c.valid(h(2), later), c.valid(h(5), later))
	}
	// A token already past exp is not added.
	c.add(h(6), later, "k", later)
	if c.valid(h(6), later.Add(-time.Second)) {
		t.Error("a token at its exp was cached")
	}
	// Size 0 disables the cache.
	off := newTokenCache(0)
	off.add(h(7), later.Add(time.Hour), "k", later)
	if off.len() != 0 {
		t.Error("a disabled cache stored a token")
	}
}

func TestTokenCacheDefaultBound(t *testing.T) {
	t.Parallel()
	now := time.Now()
	c := newTokenCache(defaultTuning().cacheSize)
	for i := range 3000 {
		c.add(sha256.Sum256(fmt.Append(nil, i)), now.Add(time.Hour), "k", now)
	}
	if c.len() != 1024 {
		t.Errorf("len %d, want 1024", c.len())
	}
}
