package invite

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
)

// An Approval records that the gate let a person start signing up with an
// address: the start of a sign-up was decided "allowed" for Email, for the
// person that Binding names. The submit of the same sign-up continues only
// when a live approval for the submitted address exists, so that an address
// typed into the form after start can never take an invitation that start
// did not approve.
type Approval struct {
	Email   string // normalised address
	Binding Binding
	// CorrelationID is the start request's correlationId: a log key, not a
	// security binding (the client can influence it).
	CorrelationID string
	At            time.Time // when start approved
	Expires       time.Time // the approval is live while now < Expires
}

// Live reports whether the approval still admits a submit at now.
func (a Approval) Live(now time.Time) bool {
	return !now.Before(a.At.Add(-maxClockSkew)) && now.Before(a.Expires)
}

// maxClockSkew tolerates instances whose clocks disagree a little: an
// approval written by one instance may be read by another a moment "before"
// it was made.
const maxClockSkew = time.Minute

// Binding names who an approval was given to: a federated identity (the
// provider and its subject for the person), or the address itself when
// Entra verified the address (a local account).
type Binding string

// AddressBinding is the binding of an approval given to a verified address:
// email one-time passcode or email and password sign-ups.
const AddressBinding Binding = "address"

// IdentityBinding returns the binding of an approval given to the federated
// identity (issuer, subject). It is a digest: the issuer may hold characters
// that a storage key cannot, and the subject is the provider's identifier
// for the person, which the store does not need to keep. Issuers compare
// case-insensitively, subjects exactly.
func IdentityBinding(issuer, subject string) Binding {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(issuer)) + "\x00" + subject))
	return Binding("idp-" + hex.EncodeToString(sum[:16]))
}

// Approved reports whether a submit may continue, given the approvals the
// store holds for the submitted address, at now:
//
//   - want is the identity the submit carries (IdentityBinding): only an
//     approval given to that identity counts;
//   - want is "" when the submit carries no identity at all (Entra sends
//     such submits): any live approval of the address counts, because start
//     approved this address for someone who proved it within the window.
//
// A submit that carries a verified address (a local account) does not need
// an approval: Entra verified the address itself.
func Approved(approvals []Approval, want Binding, now time.Time) bool {
	for _, a := range approvals {
		if a.Live(now) && (want == "" || a.Binding == want) {
			return true
		}
	}
	return false
}

// RecentlyApproved reports whether approvals hold a live one for binding
// that was written less than a third of window before now: a new start
// need not write it again. Entra's retry of a start, a reload of the page,
// and a person who starts twice within minutes then cost no store write,
// and the submit is still admitted for at least two thirds of the window
// after the latest start (and at most the whole window).
func RecentlyApproved(approvals []Approval, binding Binding, now time.Time, window time.Duration) bool {
	for _, a := range approvals {
		if a.Binding == binding && a.Live(now) && now.Sub(a.At) < window/3 {
			return true
		}
	}
	return false
}
