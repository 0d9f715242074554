package invite

import (
	"context"
	"errors"
)

// ErrExists: Create found an invitation with that key already.
var ErrExists = errors.New("invitation already exists")

// ErrTooLarge: a value of the invitation is larger than the store keeps.
// Nothing was written. It is bad input, not a store failure.
var ErrTooLarge = errors.New("invitation too large to store")

// AdminStore is what administration tools need beyond Store: changing an
// invitation without losing a sign-up the gate records at the same moment,
// and reading the per-address records of sign-ups through whole-domain
// invitations. The gate itself needs only Store. Every implementation must
// pass invitetest.RunAdmin.
type AdminStore interface {
	Store

	// Update changes the invitation with key k atomically: it reads it
	// (cur is nil when there is none), calls fn, and writes what fn returns,
	// on condition that nobody wrote the row in between; if somebody did,
	// it reads again and calls fn again. When fn returns nil nothing is
	// written. fn must not call the store. The returned invitation's key is
	// k, whatever fn set. The store's record of which sign-ups it counted
	// (used to count Entra's retries once) is kept.
	Update(ctx context.Context, k Key, fn func(cur *Invitation) (*Invitation, error)) error

	// Create adds inv, or returns ErrExists when an invitation with its
	// key exists; it never replaces one. It costs one write, where Update
	// costs a read and a write.
	Create(ctx context.Context, inv Invitation) error

	// ListAddressRecords calls fn for every per-address record of sign-ups
	// through a whole-domain invitation, in address order, without loading
	// them all at once.
	ListAddressRecords(ctx context.Context, fn func(AddressRecord) error) error
}

// AddressRecord is the bookkeeping of one address's sign-ups through one
// whole-domain invitation.
type AddressRecord struct {
	Email      string // the address that signed up
	Invitation Key    // the domain invitation it signed up through
	Redemptions
}
