package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/invitegate/invitegate/internal/invite"
)

func initCommand() command {
	return command{
		name:     "init",
		summary:  "create the invitation table if it is missing",
		examples: []string{"invitectl init", "invitectl init --connection UseDevelopmentStorage=true"},
		run: func(c *cli, fs *flag.FlagSet) error {
			if _, err := args(fs, 0, 0, "no arguments"); err != nil {
				return err
			}
			s, err := c.open()
			if err != nil {
				return err
			}
			if err := s.Init(c.ctx); err != nil {
				return storeError(err)
			}
			set, _ := c.settings()
			fmt.Fprintf(c.stdout, "table %s is ready\n", set.Where())
			return nil
		},
	}
}

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
}

func addCommand() command {
	var f addFlags
	return command{
		name:    "add",
		summary: "invite an address or a whole domain (creates or replaces)",
		usage:   "EMAIL|@DOMAIN [--app APPID] [--expires 2027-01-31|30d] [--prefill NAME=VALUE]... [--set NAME=VALUE]... [--note TEXT]",
		examples: []string{
			"invitectl add jo.bloggs@example.org",
			"invitectl add jo.bloggs@example.org --expires 2027-01-31 --prefill givenName=Jo --prefill surname=Bloggs",
			"invitectl add @partner.example --app 5f3e2d1c-2222-4b3a-8c9d-1a2b3c4d5e6f --set companyName=Partner --note 'partner pilot'",
		},
		flags: func(fs *flag.FlagSet, c *cli) {
			fs.StringVar(&f.app, "app", "", "the appId of the application the invitation is for (default: any application)")
			fs.StringVar(&f.expires, "expires", "", "a date (valid through its end, UTC), an RFC 3339 time, or a duration such as 30d")
			fs.StringVar(&f.note, "note", "", "a note for administrators")
			fs.Var(&f.prefill, "prefill", "NAME=VALUE suggested on the sign-up form (repeatable)")
			fs.Var(&f.set, "set", "NAME=VALUE enforced when the form is submitted (repeatable)")
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
			inv := invite.Invitation{Key: k, Status: invite.StatusPending, Expires: expires, Created: now.Truncate(time.Second),
				Note: f.note, Prefill: f.prefill.values, Set: f.set.values}
			// A re-invitation keeps the history of earlier sign-ups and
			// makes a revoked invitation valid again.
			old, err := s.Get(c.ctx, k)
			existed := err == nil
			switch {
			case existed:
				inv.Redemptions, inv.Created = old.Redemptions, old.Created
				if old.Count > 0 {
					inv.Status = invite.StatusRedeemed
				}
			case !errors.Is(err, invite.ErrNotFound):
				return storeError(err)
			}
			if err := s.Put(c.ctx, inv); err != nil {
				return storeError(err)
			}
			verb := "invited"
			if existed {
				verb = "re-invited"
			}
			fmt.Fprintf(c.stdout, "%s %s%s\n", verb, k, expiryText(expires))
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

func parseKey(subject, app string) (invite.Key, error) {
	sub, err := invite.ParseSubject(subject)
	if err != nil {
		return invite.Key{}, usageError{err.Error()}
	}
	a, err := invite.ParseApp(app)
	if err != nil {
		return invite.Key{}, usagef("--app: %v", err)
	}
	return invite.Key{Subject: sub, App: a}, nil
}

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
			var found []invite.Invitation
			err = s.List(c.ctx, sub, func(inv invite.Invitation) error {
				if inv.Subject == sub {
					found = append(found, inv)
				}
				return nil
			})
			if err != nil {
				return storeError(err)
			}
			if len(found) == 0 {
				return fmt.Errorf("no invitation for %s", sub)
			}
			for i, inv := range found {
				if i > 0 {
					fmt.Fprintln(c.stdout)
				}
				printInvitation(c.stdout, inv, c.now())
			}
			if !strings.HasPrefix(sub, "@") {
				return printDomainRecord(c, s, sub)
			}
			fmt.Fprintln(c.stdout, "\nSign-ups through a domain invitation are recorded per address: invitectl show ADDRESS")
			return nil
		},
	}
}

// displayStatus is the status people care about: expired is derived.
func displayStatus(inv invite.Invitation, now time.Time) string {
	if inv.Status != invite.StatusRevoked && inv.Expired(now) {
		return "expired"
	}
	return string(inv.Status)
}

func printInvitation(w io.Writer, inv invite.Invitation, now time.Time) {
	app := inv.App
	if app == invite.AnyApp {
		app = "* (any application)"
	}
	row := func(k, v string) { fmt.Fprintf(w, "%-12s %s\n", k+":", v) }
	row("invitation", inv.Subject)
	row("app", app)
	row("status", displayStatus(inv, now))
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
}

func revokeCommand() command {
	return keyCommand("revoke", "withdraw an invitation (sign-ups with it are blocked at once)",
		func(c *cli, s invite.Store, k invite.Key) error {
			if err := s.SetStatus(c.ctx, k, invite.StatusRevoked); err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "revoked %s\n", k)
			return nil
		})
}

func deleteCommand() command {
	return keyCommand("delete", "remove an invitation and its history",
		func(c *cli, s invite.Store, k invite.Key) error {
			if err := s.Delete(c.ctx, k); err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "deleted %s\n", k)
			return nil
		})
}

// keyCommand builds a command that acts on one invitation key.
func keyCommand(name, summary string, act func(c *cli, s invite.Store, k invite.Key) error) command {
	var app string
	return command{
		name:     name,
		summary:  summary,
		usage:    "EMAIL|@DOMAIN [--app APPID]",
		examples: []string{"invitectl " + name + " jo.bloggs@example.org", "invitectl " + name + " @partner.example --app 5f3e2d1c-2222-4b3a-8c9d-1a2b3c4d5e6f"},
		flags: func(fs *flag.FlagSet, c *cli) {
			fs.StringVar(&app, "app", "", "the appId the invitation is for (default: the any-application invitation)")
		},
		run: func(c *cli, fs *flag.FlagSet) error {
			a, err := args(fs, 1, 1, "one EMAIL or @DOMAIN")
			if err != nil {
				return err
			}
			k, err := parseKey(a[0], app)
			if err != nil {
				return err
			}
			s, err := c.open()
			if err != nil {
				return err
			}
			if err := act(c, s, k); err != nil {
				if errors.Is(err, invite.ErrNotFound) {
					return fmt.Errorf("no invitation for %s", k)
				}
				return storeError(err)
			}
			return nil
		},
	}
}

// printDomainRecord shows the sign-ups an address made through its
// domain's invitations, which are recorded in the address's partition.
func printDomainRecord(c *cli, s invite.Store, email string) error {
	domain := invite.Key{Subject: invite.DomainOf(email), App: invite.AnyApp}
	r, err := s.AddressRedemptions(c.ctx, domain, email)
	if err != nil {
		return storeError(err)
	}
	if r.Count > 0 {
		fmt.Fprintf(c.stdout, "\nthrough %s: %d sign-ups, last %s\n", domain.Subject, r.Count, r.Last.UTC().Format(time.RFC3339))
	}
	return nil
}
