package main

import (
	"context"
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
	send               bool   // then mail the person their link
	message            string // with send: a note to the person
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
			// makes a revoked invitation valid again. Update writes only if
			// no sign-up was recorded since the read, so none is lost.
			existed := false
			err = s.Update(c.ctx, k, func(old *invite.Invitation) (*invite.Invitation, error) {
				inv := invite.Invitation{Key: k, Status: invite.StatusPending, Expires: expires, Created: now.Truncate(time.Second),
					Note: f.note, Prefill: f.prefill.values, Set: f.set.values}
				if existed = old != nil; existed {
					inv.Redemptions, inv.Created, inv.SentRecord = old.Redemptions, old.Created, old.SentRecord
					if old.Count > 0 {
						inv.Status = invite.StatusRedeemed
					}
				}
				return &inv, nil
			})
			if err != nil {
				return storeError(err)
			}
			verb := "invited"
			if existed {
				verb = "re-invited"
			}
			fmt.Fprintf(c.stdout, "%s %s%s\n", verb, k, expiryText(expires))
			if f.send {
				return sendAfter(c, []target{{key: k}}, f.message, false)
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
				if domain := invite.DomainOf(sub); !strings.HasPrefix(sub, "@") {
					if covered, _ := hasInvitation(c, s, domain); covered {
						return fmt.Errorf("no invitation for %s itself; the domain invitation %s covers it (invitectl show %s)", sub, domain, domain)
					}
				}
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
	printSent(row, inv)
}

func revokeCommand() command {
	return keyCommand(keyAction{
		name:     "revoke",
		summary:  "withdraw invitations (sign-ups with them are blocked at once)",
		done:     "revoked",
		outcomes: []string{"revoked", "already revoked", "not found"},
		one: func(c *cli, s invite.AdminStore, k invite.Key) error {
			if err := s.SetStatus(c.ctx, k, invite.StatusRevoked); err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "revoked %s\n", k)
			return nil
		},
		each: func(ctx context.Context, s invite.AdminStore, k invite.Key) (string, error) {
			outcome := "revoked"
			err := s.Update(ctx, k, func(cur *invite.Invitation) (*invite.Invitation, error) {
				switch {
				case cur == nil:
					outcome = "not found"
					return nil, nil
				case cur.Status == invite.StatusRevoked:
					outcome = "already revoked"
					return nil, nil
				}
				outcome = "revoked"
				cur.Status = invite.StatusRevoked
				return cur, nil
			})
			return outcome, err
		},
	})
}

func deleteCommand() command {
	return keyCommand(keyAction{
		name:     "delete",
		summary:  "remove invitations and their history",
		done:     "deleted",
		outcomes: []string{"deleted", "not found"},
		one: func(c *cli, s invite.AdminStore, k invite.Key) error {
			if err := s.Delete(c.ctx, k); err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "deleted %s\n", k)
			return nil
		},
		each: func(ctx context.Context, s invite.AdminStore, k invite.Key) (string, error) {
			err := s.Delete(ctx, k)
			if errors.Is(err, invite.ErrNotFound) {
				return "not found", nil
			}
			return "deleted", err
		},
	})
}

// keyAction is what revoke or delete does to one invitation: one, for a
// key on the command line; each, for every key of a --file, returning one
// of outcomes.
type keyAction struct {
	name, summary, done string
	outcomes            []string
	one                 func(c *cli, s invite.AdminStore, k invite.Key) error
	each                func(ctx context.Context, s invite.AdminStore, k invite.Key) (outcome string, err error)
}

// keyCommand builds a command that acts on one invitation key, or on every
// key of a file.
func keyCommand(a keyAction) command {
	var (
		app, file string
		workers   int
		verbose   bool
	)
	return command{
		name:    a.name,
		summary: a.summary,
		usage:   "EMAIL|@DOMAIN [--app APPID]\n  invitectl " + a.name + " --file FILE|- [--app APPID] [--verbose] [--concurrency N]",
		examples: []string{
			"invitectl " + a.name + " jo.bloggs@example.org",
			"invitectl " + a.name + " @partner.example --app 5f3e2d1c-2222-4b3a-8c9d-1a2b3c4d5e6f",
			"invitectl " + a.name + " --file leavers.txt            (one EMAIL or @DOMAIN per line)",
			"invitectl " + a.name + " --file leavers.csv            (CSV with an email column, and optionally app)",
		},
		flags: func(fs *flag.FlagSet, c *cli) {
			fs.StringVar(&app, "app", "", "the `APPID` the invitation is for (default: the any-application invitation)")
			fs.StringVar(&file, "file", "", "act on every invitation `FILE` names: one EMAIL or @DOMAIN per line, or CSV with a header that has an email column (and optionally app), such as an export; - for standard input")
			fs.BoolVar(&verbose, "verbose", false, "with --file: list what happened to each invitation")
			fs.IntVar(&workers, "concurrency", defaultWorkers, "with --file: `N` invitations changed at once")
		},
		run: func(c *cli, fs *flag.FlagSet) error {
			if file != "" {
				if _, err := args(fs, 0, 0, "--file or one EMAIL or @DOMAIN, not both"); err != nil {
					return err
				}
				w, err := workersFlag(workers)
				if err != nil {
					return err
				}
				return runKeyFile(c, a, file, app, w, verbose)
			}
			pos, err := args(fs, 1, 1, "one EMAIL or @DOMAIN, or --file FILE")
			if err != nil {
				return err
			}
			k, err := parseKey(pos[0], app)
			if err != nil {
				return err
			}
			s, err := c.open()
			if err != nil {
				return err
			}
			if err := a.one(c, s, k); err != nil {
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
func printDomainRecord(c *cli, s invite.AdminStore, email string) error {
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

// hasInvitation reports whether subject has an invitation for any app.
func hasInvitation(c *cli, s invite.Store, subject string) (bool, error) {
	found := false
	err := s.List(c.ctx, subject, func(inv invite.Invitation) error {
		found = found || inv.Subject == subject
		return nil
	})
	return found, err
}
