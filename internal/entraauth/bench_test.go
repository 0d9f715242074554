package entraauth_test

import (
	"testing"

	"github.com/invitegate/invitegate/internal/entraauth"
	"github.com/invitegate/invitegate/internal/entraauth/entratest"
)

// BenchmarkAuthenticateFirstSeen measures a token that is not cached: every
// check and a full RS256 verification. The cache is disabled so that one
// token can be used for every iteration.
func BenchmarkAuthenticateFirstSeen(b *testing.B) {
	e := newReadyEnv(b, func(_ *entratest.Tenant, _ *entraauth.Config, _ *entraauth.Options, tune *entraauth.Tuning) {
		tune.CacheSize = 0
	})
	r := request("Bearer " + e.token())
	b.ReportAllocs()
	for b.Loop() {
		if err := e.auth.Authenticate(r); err != nil {
			b.Fatal(err)
		}
	}
	if e.auth.Verifies() < int64(b.N) {
		b.Fatalf("%d verifications for %d calls: the cache answered", e.auth.Verifies(), b.N)
	}
}

// BenchmarkAuthenticateRepeat measures a token seen before: a SHA-256 and a
// map lookup.
func BenchmarkAuthenticateRepeat(b *testing.B) {
	e := newReadyEnv(b, nil)
	r := request("Bearer " + e.token())
	if err := e.auth.Authenticate(r); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := e.auth.Authenticate(r); err != nil {
			b.Fatal(err)
		}
	}
	if n := e.auth.Verifies(); n != 1 {
		b.Fatalf("%d verifications, want 1", n)
	}
}
