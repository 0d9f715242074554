// Package invite holds the domain of the invite-only gate: invitations, the
// store that keeps them, and the pure rules that decide whether an email
// address may sign up to an application.
package invite

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// AnyApp is the App of an invitation that is valid for every application.
const AnyApp = "*"

// Status is an invitation's life-cycle state. Expiry is not a status: it is
// derived from Expires and the clock.
type Status string

// Invitation states.
const (
	StatusPending  Status = "pending"  // created, not used yet
	StatusRedeemed Status = "redeemed" // used at least once; still valid
	StatusRevoked  Status = "revoked"  // withdrawn by an administrator
)

// ParseStatus checks s against the known states.
func ParseStatus(s string) (Status, error) {
	switch st := Status(strings.ToLower(strings.TrimSpace(s))); st {
	case StatusPending, StatusRedeemed, StatusRevoked:
		return st, nil
	}
	return "", fmt.Errorf("unknown status %q: use pending, redeemed or revoked", s)
}

// Key identifies one invitation: who (an address, or "@domain" for every
// address of a domain) and for which application (an appId, or AnyApp).
type Key struct {
	Subject string
	App     string
}

// String renders the key as people write it: "jo@example.org" or
// "@example.org for app 5f3e…".
func (k Key) String() string {
	if k.App == AnyApp || k.App == "" {
		return k.Subject
	}
	return k.Subject + " (app " + k.App + ")"
}

// IsDomain reports whether the key invites a whole domain.
func (k Key) IsDomain() bool { return strings.HasPrefix(k.Subject, "@") }

// Invitation is one row of the invitation table.
type Invitation struct {
	Key
	Status  Status
	Expires time.Time // zero: never expires; otherwise valid while now < Expires
	Created time.Time
	Note    string
	// Prefill values are suggestions for the sign-up form (attribute name →
	// value); the person may change them.
	Prefill map[string]string
	// Set values are enforced on submit, whatever the person typed.
	Set map[string]string
	Redemptions
	// SentRecord is the bookkeeping of the invitation messages sent to
	// the address (invitectl send): how many, the first and the last.
	SentRecord
}

// Redemptions is the bookkeeping of sign-ups that used an invitation. For an
// address invitation it is kept on the invitation; for a domain invitation
// it is kept per address, so people sharing one domain invitation never
// contend for one row.
type Redemptions struct {
	Count int64
	First time.Time
	Last  time.Time
}

// Expired reports whether the invitation has expired at now.
func (inv Invitation) Expired(now time.Time) bool {
	return !inv.Expires.IsZero() && !now.Before(inv.Expires)
}

// Sentinel errors of every Store.
var (
	// ErrNotFound: no invitation has that key.
	ErrNotFound = errors.New("invitation not found")
	// ErrUnavailable: the store could not answer (down, slow, throttling,
	// or misconfigured). Callers must fail closed.
	ErrUnavailable = errors.New("invitation store unavailable")
	// ErrTableMissing: the invitation table does not exist. It also
	// matches ErrUnavailable.
	ErrTableMissing = fmt.Errorf("%w: invitation table does not exist", ErrUnavailable)
)

// Match is what the store knows about one email address signing up to one
// application: the invitations at each level of specificity that exist.
// A nil level means no such invitation.
type Match struct {
	Email        string // normalised address
	App          string // the application's appId, or "" when unknown
	AddressApp   *Invitation
	AddressAny   *Invitation
	DomainApp    *Invitation
	DomainAny    *Invitation
	DomainLoaded time.Time // when the domain invitations consulted were read
	// Approvals are the address's approvals to sign up (see Approval),
	// read in the same round trip; expired ones may be among them.
	Approvals []Approval
}

// DomainOf returns "@domain" for an address, the subject of a whole-domain
// invitation that covers it.
func DomainOf(email string) string {
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return ""
	}
	return email[at:]
}
