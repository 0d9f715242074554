package main

import (
	"flag"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/invitegate/invitegate/internal/invite"
)

func showCommand() command {
	return command{
		name:     "show",
		summary:  "show the invitations of an address or domain",
		usage:    "EMAIL|@DOMAIN",
		examples: []string{"invitectl show jo.bloggs@example.org", "invitectl show @partner.example"},
		run: func(c *cli, fs *flag.FlagSet) error {
			a, err := args(fs, 1, 1, "one EMAIL or @DOMAIN")
			if err != nil {
				return err
			}
			sub, err := invite.ParseSubject(a[0])
			if err != nil {
				return usageError{err.Error()}
			}
			s, err := c.open()
			if err != nil {
				return err
			}
			found, err := invitationsOf(c, s, sub)
			if err != nil {
				return err
			}
			isDomain := invite.Key{Subject: sub}.IsDomain()
			if len(found) == 0 {
				if domain := invite.DomainOf(sub); !isDomain {
					if covering, _ := invitationsOf(c, s, domain); len(covering) > 0 {
						return fmt.Errorf("no invitation for %s itself; the domain invitation %s covers it (invitectl show %s)", printable(sub), printable(domain), printable(domain))
					}
				}
				return fmt.Errorf("no invitation for %s", printable(sub))
			}
			for i, inv := range found {
				if i > 0 {
					fmt.Fprintln(c.stdout)
				}
				printInvitation(c.stdout, inv, c.now())
			}
			if !isDomain {
				return printDomainRecord(c, s, sub)
			}
			fmt.Fprintln(c.stdout, "\nSign-ups through a domain invitation are recorded per address: invitectl show ADDRESS")
			return nil
		},
	}
}

// invitationsOf returns the invitations of subject, for every app.
func invitationsOf(c *cli, s invite.Store, subject string) ([]invite.Invitation, error) {
	var found []invite.Invitation
	err := s.List(c.ctx, subject, func(inv invite.Invitation) error {
		if inv.Subject == subject {
			found = append(found, inv)
		}
		return nil
	})
	return found, err
}

func printInvitation(w io.Writer, inv invite.Invitation, now time.Time) {
	app := inv.App
	if app == invite.AnyApp {
		app = "* (any application)"
	}
	row := func(k, v string) { fmt.Fprintf(w, "%-12s %s\n", k+":", printable(v)) }
	row("invitation", inv.Subject)
	row("app", app)
	row("status", inv.State(now))
	if inv.Expires.IsZero() {
		row("expires", "never")
	} else {
		row("expires", inv.Expires.UTC().Format(time.RFC3339))
	}
	if !inv.Created.IsZero() {
		row("created", inv.Created.UTC().Format(time.RFC3339))
	}
	if inv.Note != "" {
		row("note", inv.Note)
	}
	for _, kv := range []struct {
		label  string
		values map[string]string
	}{{"prefill", inv.Prefill}, {"set", inv.Set}} {
		names := make([]string, 0, len(kv.values))
		for n := range kv.values {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			row(kv.label, n+"="+kv.values[n])
		}
	}
	row("redemptions", fmt.Sprint(inv.Count))
	if !inv.First.IsZero() {
		row("first", inv.First.UTC().Format(time.RFC3339))
		row("last", inv.Last.UTC().Format(time.RFC3339))
	}
	if inv.IsDomain() {
		return // nobody to mail
	}
	row("mailed", fmt.Sprint(inv.SentCount))
	if !inv.FirstSent.IsZero() {
		row("first mail", inv.FirstSent.UTC().Format(time.RFC3339))
		row("last mail", inv.LastSent.UTC().Format(time.RFC3339))
	}
}

// printDomainRecord shows the sign-ups an address made through its
// domain's invitations, which are recorded in the address's partition.
func printDomainRecord(c *cli, s invite.AdminStore, email string) error {
	domain := invite.Key{Subject: invite.DomainOf(email), App: invite.AnyApp}
	r, err := s.AddressRedemptions(c.ctx, domain, email)
	if err != nil {
		return err
	}
	if r.Count > 0 {
		fmt.Fprintf(c.stdout, "\nthrough %s: %d sign-ups, last %s\n", printable(domain.Subject), r.Count, r.Last.UTC().Format(time.RFC3339))
	}
	return nil
}
