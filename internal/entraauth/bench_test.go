package entraauth

import (
	"testing"
)

// BenchmarkAuthenticateFirstSeen measures a token that is not cached: every
// check and a full RS256 verification. The cache is disabled so that one
// token can be used for every iteration.
func BenchmarkAuthenticateFirstSeen(b *testing.B) {
	e := newReadyEnv(b, func(_ *fakeEntra, _ *Options, tune *tuning) { tune.cacheSize = 0 })
	r := request("Bearer " + e.valid(b, nil))
	b.ReportAllocs()
	for b.Loop() {
		if err := e.auth.Authenticate(r); err != nil {
			b.Fatal(err)
		}
	}
	if e.auth.verifies.Load() < int64(b.N) {
		b.Fatalf("%d verifications for %d calls: the cache answered", e.auth.verifies.Load(), b.N)
	}
}

// BenchmarkAuthenticateRepeat measures a token seen before: a SHA-256 and a
// map lookup.
func BenchmarkAuthenticateRepeat(b *testing.B) {
	e := newReadyEnv(b, nil)
	r := request("Bearer " + e.valid(b, nil))
	if err := e.auth.Authenticate(r); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := e.auth.Authenticate(r); err != nil {
			b.Fatal(err)
		}
	}
	if n := e.auth.verifies.Load(); n != 1 {
		b.Fatalf("%d verifications, want 1", n)
	}
}
