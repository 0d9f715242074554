package invite

import (
	"context"
	"time"
)

// Store keeps invitations. Implementations return the sentinel errors of
// this package (wrapped) and never leak storage types to callers. Every
// implementation must pass the suite in package invitetest.
type Store interface {
	// Match finds the invitations that could admit email (normalised) to
	// app ("" when unknown): the address's own ones read live, and the
	// whole-domain ones; and the address's approvals. It costs one store
	// round trip (more only when the service splits its answer into
	// pages).
	Match(ctx context.Context, email, app string) (Match, error)

	// Redeem records that email signed up through inv in the sign-up
	// identified by correlationID. It is idempotent: the same correlationID
	// is counted once. Concurrent calls lose no update. For a domain
	// invitation the record is kept per address. recorded is false when the
	// correlationID had been counted before.
	Redeem(ctx context.Context, inv Invitation, email, correlationID string, at time.Time) (recorded bool, err error)

	// Approve records the approval a for a.Email, replacing an earlier one with
	// the same binding. Match returns it while it lives.
	Approve(ctx context.Context, a Approval) error

	// Init creates the invitation table when it is missing.
	Init(ctx context.Context) error

	// Get returns the invitation with key k, or ErrNotFound.
	Get(ctx context.Context, k Key) (Invitation, error)

	// Put creates or replaces inv.
	Put(ctx context.Context, inv Invitation) error

	// SetStatus changes the status of the invitation with key k, or returns
	// ErrNotFound.
	SetStatus(ctx context.Context, k Key, st Status) error

	// Delete removes the invitation with key k, or returns ErrNotFound.
	Delete(ctx context.Context, k Key) error

	// List calls fn for every invitation whose subject starts with prefix
	// ("" for all), in key order, without loading them all at once.
	List(ctx context.Context, prefix string, fn func(Invitation) error) error

	// AddressRedemptions returns the per-address records of sign-ups
	// through the domain invitation with key k, for email.
	AddressRedemptions(ctx context.Context, k Key, email string) (Redemptions, error)
}
