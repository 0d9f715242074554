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
// invitations never do: they have no one to send to. The rule is
// invite.Filter's, which invitectl list --not-sent --older-than applies.
func (s Selection) Match(inv invite.Invitation, now time.Time) bool {
	f := invite.Filter{State: string(s.Status), QuietFor: s.OlderThan}
	if s.NotSent {
		f.Mailed = invite.MailedNever
	}
	return !inv.IsDomain() && f.Match(inv, now)
}
