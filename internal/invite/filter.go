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
}

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
		(f.Domain == "" || inv.Subject == f.Domain || DomainOf(inv.Subject) == f.Domain)
}
