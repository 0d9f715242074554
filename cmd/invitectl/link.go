package main

import (
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/invitegate/invitegate/internal/invite"
	"github.com/invitegate/invitegate/internal/signup"
)

func linkCommand() command {
	var app string
	return command{
		name:    "link",
		summary: "print the sign-up link of one invited address",
		usage:   "EMAIL [--app APPID]",
		examples: []string{
			"invitectl link jo.bloggs@example.org",
			"invitectl link jo.bloggs@example.org --app 5f3e2d1c-2222-4b3a-8c9d-1a2b3c4d5e6f",
		},
		flags: func(fs *flag.FlagSet, c *cli) {
			fs.StringVar(&app, "app", "", "the `APPID` whose sign-up page the link opens (default: the page for any application)")
		},
		run: func(c *cli, fs *flag.FlagSet) error {
			a, err := args(fs, 1, 1, "one EMAIL")
			if err != nil {
				return err
			}
			k, err := parseKey(a[0], app)
			if err != nil {
				return err
			}
			if k.IsDomain() {
				return usagef("a whole-domain invitation has no one to send a link to: give an address of %s", k.Subject)
			}
			cfg, err := signup.ConfigFromEnv(c.getenv)
			if err != nil {
				return usageError{err.Error()}
			}
			s, err := c.open()
			if err != nil {
				return err
			}
			reg, err := c.apps()
			if err != nil {
				return err
			}
			// The link is worth having only if the gate would let the
			// person through: decide as the gate does.
			matchApp := k.App
			if matchApp == invite.AnyApp {
				matchApp = ""
			}
			m, err := s.Match(c.ctx, k.Subject, matchApp)
			if err != nil {
				return err
			}
			if d := invite.Decide(m, c.now()); !d.Allowed() {
				return fmt.Errorf("%s: %s", keyText(k), notAllowedText(c, s, k, d))
			}
			_, link, err := signup.NewLinks(reg, cfg).For(c.ctx, invite.Invitation{Key: k}, k.Subject)
			if err != nil {
				if errors.Is(err, invite.ErrUnavailable) {
					return err
				}
				return usageError{err.Error()}
			}
			fmt.Fprintln(c.stdout, link)
			return nil
		},
	}
}

// notAllowedText says why the gate would block the sign-up, and what to do.
func notAllowedText(c *cli, s invite.Store, k invite.Key, d invite.Decision) string {
	switch d.Outcome {
	case invite.Revoked:
		return "the invitation that applies (" + keyText(d.Invitation.Key) + ") is revoked"
	case invite.Expired:
		return "the invitation that applies (" + keyText(d.Invitation.Key) + ") has expired"
	}
	var apps []string
	s.List(c.ctx, k.Subject, func(inv invite.Invitation) error {
		if inv.Subject == k.Subject && inv.App != invite.AnyApp {
			apps = append(apps, inv.App)
		}
		return nil
	})
	if len(apps) > 0 && k.App == invite.AnyApp {
		return "not invited to any application; invited to " + strings.Join(apps, ", ") + ": use --app"
	}
	return "not invited (invitectl add invites it)"
}
