package e2e_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/invitegate/invitegate/internal/invite"
	"github.com/invitegate/invitegate/internal/testutil/azurite"
	"github.com/invitegate/invitegate/internal/testutil/wait"
)

// entraDeadline is the longest Entra ever waits for an answer.
const entraDeadline = 2 * time.Second

// requireContinued checks that every submit let the sign-up go on within
// Entra's deadline.
func requireContinued(t *testing.T, answers []answer) {
	t.Helper()
	var slowest time.Duration
	for i, a := range answers {
		slowest = max(slowest, a.elapsed)
		if a.outcome() != continued {
			t.Errorf("submit %d: %s, want the sign-up to continue; body %s", i, a.outcome(), a.raw)
		}
		if a.elapsed > entraDeadline {
			t.Errorf("submit %d answered after %v, past Entra's %v deadline", i, a.elapsed.Round(time.Millisecond), entraDeadline)
		}
	}
	t.Logf("%d submits continued; the slowest answered in %v", len(answers), slowest.Round(time.Millisecond))
}

// settles polls read until it returns want, and fails if it ever passes
// it (a count that overshoots is as wrong as one that falls short).
func settles(t *testing.T, what string, want int64, read func() (int64, error)) {
	t.Helper()
	wait.Until(t, 10*time.Second, what, func() string {
		got, err := read()
		if err != nil {
			return err.Error()
		}
		if got > want {
			t.Fatalf("%s: %d, more than %d", what, got, want)
		}
		if got != want {
			return fmt.Sprintf("%d, want %d", got, want)
		}
		return ""
	})
}

// 200 people racing to redeem invitations: counts are exact, retries are
// counted once, and a domain invitation's sign-ups never wait on each
// other. 200 at once is four times Entra's throttle for a whole tenant
// (50 a second), so this is about exactness under contention; it runs on
// its own (not in parallel) with a store budget of 1.5s, inside Entra's
// 2s limit, so that a race-detector build on a busy two-core machine
// still answers in time.
func TestConcurrentRedemptions(t *testing.T) {
	store := newTable(t, azurite.Connection(t))
	ctx := context.Background()
	for _, s := range []string{"many@example.org", "retry@example.org"} {
		if err := store.Put(ctx, invite.Invitation{Key: invite.Key{Subject: s, App: invite.AnyApp}, Status: invite.StatusPending}); err != nil {
			t.Fatal(err)
		}
	}
	g := startGate(t, store, "INVITE_STORE_TIMEOUT=1500ms")
	const n = 200
	count := func(subject string) func() (int64, error) {
		return func() (int64, error) {
			inv, err := store.Get(ctx, invite.Key{Subject: subject, App: invite.AnyApp})
			return inv.Count, err
		}
	}

	t.Run("one address, different correlation ids", func(t *testing.T) {
		requireContinued(t, wait.All(n, func(int) answer { return g.signUp(true, "many@example.org") }))
		settles(t, "redemptions of many@example.org", n, count("many@example.org"))
		if inv, _ := store.Get(ctx, invite.Key{Subject: "many@example.org", App: invite.AnyApp}); inv.Status != invite.StatusRedeemed {
			t.Errorf("status %s, want redeemed", inv.Status)
		}
	})

	t.Run("one address, one correlation id", func(t *testing.T) {
		id := correlationID() // Entra retrying one sign-up
		requireContinued(t, wait.All(n, func(int) answer { return g.signUpAs(true, "retry@example.org", id) }))
		settles(t, "redemptions of retry@example.org", 1, count("retry@example.org"))
	})

	t.Run("one domain invitation, different addresses", func(t *testing.T) {
		email := func(i int) string { return fmt.Sprintf("person%03d%s", i, invitedDomain) }
		requireContinued(t, wait.All(n, func(i int) answer { return g.signUp(true, email(i)) }))
		domain := invite.Key{Subject: invitedDomain, App: invite.AnyApp}
		for i := range n {
			settles(t, "per-address redemptions of "+email(i), 1, func() (int64, error) {
				r, err := store.AddressRedemptions(ctx, domain, email(i))
				return r.Count, err
			})
		}
		// The domain invitation itself is not a shared counter.
		if inv, err := store.Get(ctx, domain); err != nil || inv.Count != 0 {
			t.Errorf("the domain invitation's own count is %d (%v), want 0: sign-ups would contend for it", inv.Count, err)
		}
	})
}
