package entraauth

import (
	"crypto/sha256"
	"fmt"
	"testing"
	"time"
)

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
