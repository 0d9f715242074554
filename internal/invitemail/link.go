package invitemail

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/invitegate/invitegate/internal/invite"
	"github.com/invitegate/invitegate/internal/signup"
)

// LinkStore is what Link needs of the invitation store.
type LinkStore interface {
	Match(ctx context.Context, email, app string) (invite.Match, error)
	List(ctx context.Context, prefix string, fn func(invite.Invitation) error) error
}

// NotAllowedError: the gate would block the sign-up, so a link would only
// lead to a block page.
type NotAllowedError struct {
	// Key is the invitation asked for.
	Key invite.Key
	// Decision is the gate's, with the invitation that applies (nil when
	// none does).
	Decision invite.Decision
	// OtherApps lists the applications the address is invited to, when
	// the link asked for is for any application and none applies.
	OtherApps []string
}

func (e *NotAllowedError) Error() string {
	return fmt.Sprintf("%s would not be let through: %s", e.Key, e.Decision.Outcome)
}

// Link returns the sign-up link of the address of k (not a whole domain)
// for k's application, when the gate would let the person sign up at now:
// it decides as the gate does, on what the store holds. Otherwise the
// error is a *NotAllowedError, a *ConfigError when the application has no
// sign-up page, or a store failure.
func Link(ctx context.Context, s LinkStore, links *signup.Links, k invite.Key, now time.Time) (string, error) {
	matchApp := k.App
	if matchApp == invite.AnyApp {
		matchApp = ""
	}
	m, err := s.Match(ctx, k.Subject, matchApp)
	if err != nil {
		return "", err
	}
	if d := invite.Decide(m, now); !d.Allowed() {
		na := &NotAllowedError{Key: k, Decision: d}
		if d.Outcome == invite.NotInvited && k.App == invite.AnyApp {
			// Only a hint for the error: a failure to list leaves it out.
			_ = s.List(ctx, k.Subject, func(inv invite.Invitation) error {
				if inv.Subject == k.Subject && inv.App != invite.AnyApp {
					na.OtherApps = append(na.OtherApps, inv.App)
				}
				return nil
			})
		}
		return "", na
	}
	_, link, err := links.For(ctx, invite.Invitation{Key: k}, k.Subject)
	if err != nil {
		if errors.Is(err, invite.ErrUnavailable) {
			return "", err
		}
		return "", &ConfigError{err}
	}
	return link, nil
}
