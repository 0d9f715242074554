package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/invitegate/invitegate/internal/invite"
)

// invitationStats are the counts stats reports. Memory grows with the
// number of distinct applications and domains, not of invitations.
type invitationStats struct {
	Invitations int            `json:"invitations"`
	ByStatus    map[string]int `json:"by_status"`
	ByApp       map[string]int `json:"by_app"`
	Domains     int            `json:"domains"`
	TopDomains  []domainStats  `json:"top_domains"`
	SignUps     signUpStats    `json:"sign_ups"`
}

type domainStats struct {
	Domain      string `json:"domain"`
	Invitations int    `json:"invitations"`
	SignUps     int64  `json:"sign_ups"`
}

// signUpStats count sign-ups. The store keeps each address's latest
// sign-up per invitation, not every one, so the windows count addresses
// (per invitation) whose latest sign-up falls in them.
type signUpStats struct {
	Total          int64 `json:"total"`
	ThroughDomains int64 `json:"through_domain_invitations"`
	Last24h        int   `json:"addresses_last_24h"`
	Last7d         int   `json:"addresses_last_7d"`
}

func statsCommand() command {
	var top int
	var output string
	return command{
		name:     "stats",
		summary:  "count invitations by status, application and domain, and recent sign-ups",
		usage:    "[--top N] [--output text|json]",
		examples: []string{"invitectl stats", "invitectl stats --top 25", "invitectl stats --output json | jq .by_status"},
		flags: func(fs *flag.FlagSet, c *cli) {
			fs.IntVar(&top, "top", 10, "how many domains to show (`N`), those with the most invitations first")
			fs.StringVar(&output, "output", "text", "`FORMAT`: text or json")
		},
		run: func(c *cli, fs *flag.FlagSet) error {
			if _, err := args(fs, 0, 0, "no arguments"); err != nil {
				return err
			}
			if top < 0 {
				return usagef("--top %d: use 0 or more", top)
			}
			if output != "text" && output != "json" {
				return usagef("--output %q: use text or json", output)
			}
			s, err := c.open()
			if err != nil {
				return err
			}
			st, err := countInvitations(c, s, top)
			if err != nil {
				return storeError(err)
			}
			if output == "json" {
				enc := json.NewEncoder(c.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(st)
			}
			st.print(c.stdout)
			return nil
		},
	}
}

// countInvitations reads the invitations and the per-address sign-up
// records once each.
func countInvitations(c *cli, s invite.AdminStore, top int) (invitationStats, error) {
	now := c.now()
	st := invitationStats{ByStatus: map[string]int{}, ByApp: map[string]int{}}
	for _, k := range []string{"pending", "redeemed", "expired", "revoked"} {
		st.ByStatus[k] = 0
	}
	domains := map[string]*domainStats{}
	domain := func(subject string) *domainStats {
		name := strings.TrimPrefix(invite.DomainOf(subject), "@")
		d := domains[name]
		if d == nil {
			d = &domainStats{Domain: name}
			domains[name] = d
		}
		return d
	}
	recent := func(last time.Time) {
		if last.IsZero() {
			return
		}
		if age := now.Sub(last); age <= 7*24*time.Hour {
			st.SignUps.Last7d++
			if age <= 24*time.Hour {
				st.SignUps.Last24h++
			}
		}
	}
	err := s.List(c.ctx, "", func(inv invite.Invitation) error {
		st.Invitations++
		st.ByStatus[displayStatus(inv, now)]++
		st.ByApp[inv.App]++
		d := domain(inv.Subject)
		d.Invitations++
		d.SignUps += inv.Count
		st.SignUps.Total += inv.Count
		recent(inv.Last)
		return nil
	})
	if err != nil {
		return st, err
	}
	err = s.ListAddressRecords(c.ctx, func(r invite.AddressRecord) error {
		domain(r.Email).SignUps += r.Count
		st.SignUps.Total += r.Count
		st.SignUps.ThroughDomains += r.Count
		recent(r.Last)
		return nil
	})
	if err != nil {
		return st, err
	}
	st.Domains = len(domains)
	all := make([]domainStats, 0, len(domains))
	for _, d := range domains {
		all = append(all, *d)
	}
	sort.Slice(all, func(i, j int) bool {
		a, b := all[i], all[j]
		if a.Invitations != b.Invitations {
			return a.Invitations > b.Invitations
		}
		if a.SignUps != b.SignUps {
			return a.SignUps > b.SignUps
		}
		return a.Domain < b.Domain
	})
	st.TopDomains = all[:min(top, len(all))]
	return st, nil
}

func (st invitationStats) print(w io.Writer) {
	line := func(indent int, label string, n any, rest string) {
		fmt.Fprintf(w, "%-*s%-*s %8v%s\n", indent, "", 42-indent, label, n, rest)
	}
	line(0, "invitations", st.Invitations, "")
	for _, k := range []string{"pending", "redeemed", "expired", "revoked"} {
		line(2, k, st.ByStatus[k], "")
	}
	fmt.Fprintln(w, "applications")
	for _, app := range sortedNames(st.ByApp) {
		label := app
		if app == invite.AnyApp {
			label = "* (any application)"
		}
		line(2, label, st.ByApp[app], "")
	}
	fmt.Fprintf(w, "domains %d", st.Domains)
	if len(st.TopDomains) < st.Domains {
		fmt.Fprintf(w, " (the %d with the most invitations)", len(st.TopDomains))
	}
	fmt.Fprintln(w)
	for _, d := range st.TopDomains {
		line(2, d.Domain, d.Invitations, fmt.Sprintf(" invitations, %d sign-ups", d.SignUps))
	}
	line(0, "sign-ups", st.SignUps.Total, fmt.Sprintf(" (%d through whole-domain invitations)", st.SignUps.ThroughDomains))
	line(2, "addresses signed up in the last 24 h", st.SignUps.Last24h, "")
	line(2, "addresses signed up in the last 7 days", st.SignUps.Last7d, "")
}
