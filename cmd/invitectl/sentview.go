package main

import (
	"fmt"
	"time"

	"github.com/invitegate/invitegate/internal/invite"
	"github.com/invitegate/invitegate/internal/invitemail"
)

// printSent adds the sent bookkeeping to show's rows.
func printSent(row func(k, v string), inv invite.Invitation) {
	if inv.IsDomain() {
		return // nobody to mail
	}
	row("mailed", fmt.Sprint(inv.SentCount))
	if !inv.FirstSent.IsZero() {
		row("first mail", inv.FirstSent.UTC().Format(time.RFC3339))
		row("last mail", inv.LastSent.UTC().Format(time.RFC3339))
	}
}

// sentFilter is the part of list's filter about messages sent.
func (f listFlags) sentFilter(now time.Time) (func(invite.Invitation) bool, error) {
	if f.sent && f.notSent {
		return nil, usagef("--sent and --not-sent exclude each other")
	}
	if !f.sent && !f.notSent && f.olderThan == "" {
		return func(invite.Invitation) bool { return true }, nil
	}
	sel := invitemail.Selection{NotSent: f.notSent}
	if f.olderThan != "" {
		d, err := parseAge(f.olderThan)
		if err != nil {
			return nil, usagef("--older-than: %v", err)
		}
		sel.OlderThan = d
	}
	return func(inv invite.Invitation) bool {
		return sel.Match(inv, now) && (!f.sent || inv.SentCount > 0)
	}, nil
}
