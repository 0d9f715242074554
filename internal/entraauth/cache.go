package entraauth

import (
	"crypto/sha256"
	"sync"
	"time"
)

// tokenCache remembers tokens that passed every check, keyed by their
// SHA-256, until they expire. Entra reuses one token for many calls, so a
// repeat costs a hash and a map lookup instead of an RSA verification.
type tokenCache struct {
	max int // 0 disables the cache

	mu sync.RWMutex
	m  map[[sha256.Size]byte]cachedToken
}

type cachedToken struct {
	exp time.Time // the token's exp, without clock-skew leeway
	kid string    // the key that verified it
}

func newTokenCache(max int) *tokenCache {
	return &tokenCache{max: max, m: make(map[[sha256.Size]byte]cachedToken)}
}

// valid reports whether the token with hash h was accepted before and has
// not expired. After exp the token goes through every check again, where
// the clock-skew leeway decides.
func (c *tokenCache) valid(h [sha256.Size]byte, now time.Time) bool {
	c.mu.RLock()
	e, ok := c.m[h]
	c.mu.RUnlock()
	return ok && now.Before(e.exp)
}

// add remembers an accepted token. When full it drops the expired entries,
// and if none had expired, the one that expires first.
func (c *tokenCache) add(h [sha256.Size]byte, exp time.Time, kid string, now time.Time) {
	if c.max <= 0 || !now.Before(exp) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[h]; !ok && len(c.m) >= c.max {
		for k, e := range c.m {
			if !now.Before(e.exp) {
				delete(c.m, k)
			}
		}
		if len(c.m) >= c.max {
			var first [sha256.Size]byte
			var firstExp time.Time
			for k, e := range c.m {
				if firstExp.IsZero() || e.exp.Before(firstExp) {
					first, firstExp = k, e.exp
				}
			}
			delete(c.m, first)
		}
	}
	c.m[h] = cachedToken{exp: exp, kid: kid}
}

// keepKids forgets tokens verified by a key that is no longer published, so
// a withdrawn key stops being honoured at the next refresh.
func (c *tokenCache) keepKids(keys map[string]jwk) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.m {
		if _, ok := keys[e.kid]; !ok {
			delete(c.m, k)
		}
	}
}

func (c *tokenCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}
