package invite

import (
	"fmt"
	"strings"
	"time"
)

// Filter selects invitations, as invitectl list does. A zero field
// selects every invitation.
type Filter struct {
	// State is pending, redeemed, revoked or expired: an expired
	// invitation is not pending or redeemed (see Invitation.State).
	State string
	// App is an appId, or AnyApp for the invitations valid for any
	// application.
	App string
	// Domain, "@example.org", selects the domain's invitations and those
	// of its addresses.
	Domain string
	// Mailed selects by the messages sent to the address (SentRecord).
	Mailed Mailed
	// QuietFor, when above zero, selects the invitations quiet (see
	// Invitation.Quiet) for at least that long: those a reminder run
	// would pick.
	QuietFor time.Duration
}

// Mailed selects invitations by whether a message was sent about them.
// A filter on mail selects only invitations of addresses: a whole-domain
// invitation has no one to mail.
type Mailed int

const (
	// MailedAny selects every invitation, mailed or not.
	MailedAny Mailed = iota
	// MailedAtLeastOnce selects the invitations mailed at least once.
	MailedAtLeastOnce
	// MailedNever selects the invitations never mailed.
	MailedNever
)

// ParseFilter checks the parts of a filter as administrators write them:
// a status (or expired), an application id ("*" for any application) and
// a domain (with or without its "@"). An empty part selects all. An error
// starts with the part's name.
func ParseFilter(status, app, domain string) (Filter, error) {
	var f Filter
	switch f.State = strings.ToLower(strings.TrimSpace(status)); Status(f.State) {
	case "", StatusPending, StatusRedeemed, StatusRevoked, StateExpired:
	default:
		return f, fmt.Errorf("status %q: use pending, redeemed, revoked or expired", status)
	}
	var err error
	if app != "" {
		if f.App, err = ParseApp(app); err != nil {
			return f, fmt.Errorf("app: %w", err)
		}
	}
	if domain != "" {
		if f.Domain, err = ParseSubject("@" + strings.TrimPrefix(strings.TrimSpace(domain), "@")); err != nil {
			return f, fmt.Errorf("domain: %w", err)
		}
	}
	return f, nil
}

// Match reports whether f selects inv at time now.
func (f Filter) Match(inv Invitation, now time.Time) bool {
	return (f.State == "" || inv.State(now) == f.State) &&
		(f.App == "" || inv.App == f.App) &&
		(f.Domain == "" || inv.Subject == f.Domain || DomainOf(inv.Subject) == f.Domain) &&
		f.matchMail(inv, now)
}

func (f Filter) matchMail(inv Invitation, now time.Time) bool {
	if f.Mailed == MailedAny && f.QuietFor <= 0 {
		return true
	}
	switch {
	case inv.IsDomain():
		return false
	case f.Mailed == MailedAtLeastOnce && inv.SentCount == 0:
		return false
	case f.Mailed == MailedNever && inv.SentCount > 0:
		return false
	}
	return f.QuietFor <= 0 || inv.Quiet(now) >= f.QuietFor
}
