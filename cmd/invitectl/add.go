package main

import (
	"flag"
	"fmt"
	"time"

	"github.com/invitegate/invitegate/internal/invite"
	"github.com/invitegate/invitegate/internal/invitemail"
)

// multiFlag collects a repeatable NAME=VALUE flag.
type multiFlag struct{ values map[string]string }

func (m *multiFlag) String() string { return "" }

func (m *multiFlag) Set(v string) error {
	name, value, err := invite.ParseAttribute(v)
	if err != nil {
		return err
	}
	if m.values == nil {
		m.values = map[string]string{}
	}
	if _, dup := m.values[name]; dup {
		return fmt.Errorf("%s is given twice", name)
	}
	m.values[name] = value
	return nil
}

type addFlags struct {
	app, expires, note string
	prefill, set       multiFlag
	allowPublicDomain  bool
	send               bool   // then mail the person their link
	message            string // with send: a note to the person
}

func addCommand() command {
	var f addFlags
	return command{
		name:    "add",
		summary: "invite an address or a whole domain (creates or replaces)",
		usage:   "EMAIL|@DOMAIN [--app APPID] [--expires 2027-01-31|30d] [--prefill NAME=VALUE]... [--set NAME=VALUE]... [--note TEXT] [--send [--message TEXT]]",
		examples: []string{
			"invitectl add jo.bloggs@example.org",
			"invitectl add jo.bloggs@example.org --expires 2027-01-31 --prefill givenName=Jo --prefill surname=Bloggs",
			"invitectl add @partner.example --app 5f3e2d1c-2222-4b3a-8c9d-1a2b3c4d5e6f --set companyName=Partner --note 'partner pilot'",
		},
		flags: func(fs *flag.FlagSet, c *cli) {
			fs.StringVar(&f.app, "app", "", "the appId of the application the invitation is for (default: any application)")
			fs.StringVar(&f.expires, "expires", "", "a date (valid through its end, UTC), an RFC 3339 time, or a duration such as 30d (valid through the end of the UTC day it reaches)")
			fs.StringVar(&f.note, "note", "", "a note for administrators")
			fs.Var(&f.prefill, "prefill", "NAME=VALUE suggested on the sign-up form (repeatable)")
			fs.Var(&f.set, "set", "NAME=VALUE enforced when the form is submitted (repeatable)")
			fs.BoolVar(&f.allowPublicDomain, "allow-public-domain", false, "allow a whole-domain invitation for a public mail provider such as gmail.com (anyone can get an address there)")
			fs.BoolVar(&f.send, "send", false, "then email the person their sign-up link (as invitectl send does)")
			fs.StringVar(&f.message, "message", "", "with --send: a personal note shown in the message (`TEXT`)")
		},
		run: func(c *cli, fs *flag.FlagSet) error {
			a, err := args(fs, 1, 1, "one EMAIL or @DOMAIN")
			if err != nil {
				return err
			}
			k, err := parseKey(a[0], f.app)
			if err != nil {
				return err
			}
			if err := invite.CheckPublicDomain(k); err != nil && !f.allowPublicDomain {
				return usageError{err.Error()}
			}
			now := c.now().UTC()
			expires, err := invite.ParseExpiry(f.expires, now)
			if err != nil {
				return usageError{err.Error()}
			}
			if !expires.IsZero() && !expires.After(now) {
				return usagef("--expires %s is in the past", f.expires)
			}
			s, err := c.open()
			if err != nil {
				return err
			}
			// A re-invitation keeps the history of earlier sign-ups and
			// messages sent (invite.Change), and makes a revoked invitation
			// valid again. Update writes only if no sign-up was recorded
			// since the read, so none is lost.
			existed := false
			change := invite.Change{Key: k, Status: invite.StatusPending, Expires: &expires, Note: &f.note,
				Prefill: invite.Values{Replace: true, Put: f.prefill.values}, Set: invite.Values{Replace: true, Put: f.set.values}}
			err = s.Update(c.ctx, k, func(old *invite.Invitation) (*invite.Invitation, error) {
				existed = old != nil
				inv := change.Apply(old, now)
				return &inv, nil
			})
			if err != nil {
				return err
			}
			verb := "invited"
			if existed {
				verb = "re-invited"
			}
			fmt.Fprintf(c.stdout, "%s %s%s\n", verb, keyText(k), expiryText(expires))
			if f.send {
				return sendAfter(c, []invitemail.Target{{Key: k}}, f.message, false)
			}
			return nil
		},
	}
}

func expiryText(t time.Time) string {
	if t.IsZero() {
		return ", no expiry"
	}
	return ", valid until " + t.UTC().Format(time.RFC3339)
}
