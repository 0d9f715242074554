package invite

import "time"

// StateExpired is the state of a valid invitation whose expiry has passed.
// It is not a Status: it follows from Expires and the clock.
const StateExpired = "expired"

// State returns what an administrator sees of inv at now: its status, or
// StateExpired for a pending or redeemed invitation past its expiry.
func (inv Invitation) State(now time.Time) string {
	if inv.Status != StatusRevoked && inv.Expired(now) {
		return StateExpired
	}
	return string(inv.Status)
}
