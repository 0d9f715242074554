package main

import (
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/invitegate/invitegate/internal/invite"
	"github.com/invitegate/invitegate/internal/invitemail"
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
			// person through.
			link, err := invitemail.Link(c.ctx, s, signup.NewLinks(reg, cfg), k, c.now())
			var na *invitemail.NotAllowedError
			var ce *invitemail.ConfigError
			switch {
			case errors.As(err, &na):
				return fmt.Errorf("%s: %s", keyText(k), notAllowedText(na))
			case errors.As(err, &ce):
				return usageError{err.Error()}
			case err != nil:
				return err
			}
			fmt.Fprintln(c.stdout, link)
			return nil
		},
	}
}

// notAllowedText says why the gate would block the sign-up, and what to do.
func notAllowedText(na *invitemail.NotAllowedError) string {
	switch d := na.Decision; d.Outcome {
	case invite.Revoked:
		return "the invitation that applies (" + keyText(d.Invitation.Key) + ") is revoked"
	case invite.Expired:
		return "the invitation that applies (" + keyText(d.Invitation.Key) + ") has expired"
	}
	if len(na.OtherApps) > 0 {
		return "not invited to any application; invited to " + strings.Join(na.OtherApps, ", ") + ": use --app"
	}
	return "not invited (invitectl add invites it)"
}
