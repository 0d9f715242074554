package invitemail

import (
	"context"
	"errors"
	"fmt"
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

// Lister lists invitations, as invite.Store does.
type Lister interface {
	List(ctx context.Context, prefix string, fn func(invite.Invitation) error) error
}

// Select returns the invitations of s that sel picks at now, in the
// store's order, already read.
func Select(ctx context.Context, s Lister, sel Selection, now time.Time) ([]Target, error) {
	var out []Target
	err := s.List(ctx, "", func(inv invite.Invitation) error {
		if sel.Match(inv, now) {
			out = append(out, Target{Key: inv.Key, Inv: &inv})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Getter reads one invitation, as invite.Store does.
type Getter interface {
	Get(ctx context.Context, k invite.Key) (invite.Invitation, error)
}

// NeverMailed returns the targets whose invitations were never mailed and
// may be mailed at now (pending or redeemed, valid, for an address), read.
// It is the rule of import --send, so that importing the same file again
// mails nobody twice, however long after. A target that is not there is
// left out (the import reported it); a store that cannot answer is an
// error, and then nothing is mailed.
func NeverMailed(ctx context.Context, s Getter, targets []Target, now time.Time) ([]Target, error) {
	var fresh []Target
	for _, t := range targets {
		inv, err := s.Get(ctx, t.Key)
		if errors.Is(err, invite.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("nothing was mailed: %w", err)
		}
		if (Selection{NotSent: true}).Match(inv, now) && Judge(inv, now, DefaultWindow, false).Outcome == Sent {
			t.Inv = &inv
			fresh = append(fresh, t)
		}
	}
	return fresh, nil
}
