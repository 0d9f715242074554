package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/invitegate/invitegate/internal/invite"
	"github.com/invitegate/invitegate/internal/invitecsv"
)

type listFlags struct {
	status, app, domain, output string
	sent, notSent               bool   // mailed at least once, or never
	olderThan                   string // not mailed (or created) within this age
}

func listCommand() command {
	var f listFlags
	return command{
		name:    "list",
		summary: "list invitations, filtered, as a table, JSON lines or CSV",
		usage:   "[--status pending|redeemed|revoked|expired] [--app APPID|*] [--domain DOMAIN] [--sent|--not-sent] [--older-than 7d] [--output table|json|csv]",
		examples: []string{
			"invitectl list",
			"invitectl list --status pending --domain partner.example",
			"invitectl list --app 5f3e2d1c-2222-4b3a-8c9d-1a2b3c4d5e6f --output json | jq -r .email",
			"invitectl list --status expired --output csv > expired.csv && invitectl delete --file expired.csv",
		},
		flags: func(fs *flag.FlagSet, c *cli) {
			fs.StringVar(&f.status, "status", "", "only invitations in this `STATE`: pending, redeemed, revoked or expired (an expired invitation is not shown as pending or redeemed)")
			fs.StringVar(&f.app, "app", "", "only invitations for this `APPID`; * for those valid for any application")
			fs.StringVar(&f.domain, "domain", "", "only invitations of addresses in this `DOMAIN`, and the domain's own")
			fs.BoolVar(&f.sent, "sent", false, "only invitations mailed at least once (invitectl send)")
			fs.BoolVar(&f.notSent, "not-sent", false, "only invitations never mailed")
			fs.StringVar(&f.olderThan, "older-than", "", "only invitations not mailed (or, never mailed, created) within this `AGE`, such as 7d: those send --older-than would remind")
			fs.StringVar(&f.output, "output", "table", "`FORMAT`: table (aligned, for people), json (one JSON object per line) or csv (the import format)")
		},
		run: func(c *cli, fs *flag.FlagSet) error {
			if _, err := args(fs, 0, 0, "no arguments: use the flags to filter"); err != nil {
				return err
			}
			now := c.now()
			filter, err := invite.ParseFilter(f.status, f.app, f.domain)
			if err != nil {
				return usagef("--%v", err)
			}
			if filter.Mailed, filter.QuietFor, err = f.mailed(); err != nil {
				return err
			}
			keep := func(inv invite.Invitation) bool { return filter.Match(inv, now) }
			switch f.output {
			case "table", "json", "csv":
			default:
				return usagef("--output %q: use table, json or csv", f.output)
			}
			s, err := c.open()
			if err != nil {
				return err
			}
			return writeOutput(c, "-", func(w io.Writer) error {
				if f.output == "csv" {
					_, err := invitecsv.Export(c.ctx, s, w, keep)
					return err
				}
				write := func(inv invite.Invitation) error { return writeTableRow(w, inv, now) }
				if f.output == "json" {
					enc := json.NewEncoder(w) // one object per line
					enc.SetEscapeHTML(false)
					write = func(inv invite.Invitation) error { return enc.Encode(newJSONInvitation(inv, now)) }
				} else {
					writeTableHeader(w)
				}
				n := 0
				err := s.List(c.ctx, "", func(inv invite.Invitation) error {
					if !keep(inv) {
						return nil
					}
					n++
					return write(inv)
				})
				if err != nil {
					return err
				}
				if f.output == "table" {
					fmt.Fprintf(w, "(%s)\n", plural(n, "invitation", "invitations"))
				}
				return nil
			})
		},
	}
}

// mailed reads --sent, --not-sent and --older-than.
func (f listFlags) mailed() (invite.Mailed, time.Duration, error) {
	mailed := invite.MailedAny
	switch {
	case f.sent && f.notSent:
		return 0, 0, usagef("--sent and --not-sent exclude each other")
	case f.sent:
		mailed = invite.MailedAtLeastOnce
	case f.notSent:
		mailed = invite.MailedNever
	}
	if f.olderThan == "" {
		return mailed, 0, nil
	}
	quiet, err := invite.ParseAge(f.olderThan)
	if err != nil {
		return 0, 0, usagef("--older-than: %v", err)
	}
	return mailed, quiet, nil
}

// The table has fixed column widths, so it streams: no row waits for the
// widest one. A longer address pushes its row's later columns right.
const tableFormat = "%-34s %-8s %-20s %8s %6s  %-36s  %s\n"

func writeTableHeader(w io.Writer) {
	fmt.Fprintf(w, tableFormat, "EMAIL", "STATUS", "EXPIRES", "SIGN-UPS", "MAILED", "APP", "NOTE")
}

func writeTableRow(w io.Writer, inv invite.Invitation, now time.Time) error {
	expires := "never"
	if !inv.Expires.IsZero() {
		expires = inv.Expires.UTC().Format(time.RFC3339)
	}
	_, err := fmt.Fprintf(w, tableFormat, printable(inv.Subject), inv.State(now), expires, fmt.Sprint(inv.Count), fmt.Sprint(inv.SentCount), inv.App, oneLine(inv.Note, 60))
	return err
}

// jsonInvitation is one line of list --output json. Its names are the CSV
// columns; status is the effective one (expired included).
type jsonInvitation struct {
	Email         string            `json:"email"`
	App           string            `json:"app"`
	Status        string            `json:"status"`
	Expires       string            `json:"expires,omitempty"`
	Note          string            `json:"note,omitempty"`
	Created       string            `json:"created,omitempty"`
	Redemptions   int64             `json:"redemptions"`
	RedeemedFirst string            `json:"redeemed_first,omitempty"`
	RedeemedLast  string            `json:"redeemed_last,omitempty"`
	Prefill       map[string]string `json:"prefill,omitempty"`
	Set           map[string]string `json:"set,omitempty"`
	Sent          int64             `json:"sent,omitempty"`
	SentFirst     string            `json:"sent_first,omitempty"`
	SentLast      string            `json:"sent_last,omitempty"`
}

func newJSONInvitation(inv invite.Invitation, now time.Time) jsonInvitation {
	return jsonInvitation{
		Email: inv.Subject, App: inv.App, Status: inv.State(now), Expires: invitecsv.Timestamp(inv.Expires), Note: inv.Note,
		Created: invitecsv.Timestamp(inv.Created), Redemptions: inv.Count, RedeemedFirst: invitecsv.Timestamp(inv.First), RedeemedLast: invitecsv.Timestamp(inv.Last),
		Prefill: inv.Prefill, Set: inv.Set,
		Sent: inv.SentCount, SentFirst: invitecsv.Timestamp(inv.FirstSent), SentLast: invitecsv.Timestamp(inv.LastSent),
	}
}
