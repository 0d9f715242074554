package invitemail

import (
	"time"

	"github.com/invitegate/invitegate/internal/invite"
)

// Selection picks the invitations of a batch, such as reminders: pending
// invitations that nobody has heard about for a week.
type Selection struct {
	// Status is pending or redeemed, as list shows it: an expired
	// invitation is neither. "" selects every status.
	Status invite.Status
	// NotSent selects invitations never mailed.
	NotSent bool
	// OlderThan selects invitations quiet for at least that long: mailed
	// last, or created when never mailed, that long ago (0: any age).
	OlderThan time.Duration
}

// Match reports whether inv belongs to the batch at now. Whole-domain
// invitations never do: they have no one to send to.
func (s Selection) Match(inv invite.Invitation, now time.Time) bool {
	if inv.IsDomain() {
		return false
	}
	if s.Status != "" && (inv.Status != s.Status || inv.Expired(now)) {
		return false
	}
	if s.NotSent && inv.SentCount > 0 {
		return false
	}
	return s.OlderThan <= 0 || inv.Quiet(now) >= s.OlderThan
}
