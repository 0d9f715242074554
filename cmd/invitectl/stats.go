package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/invitegate/invitegate/internal/invite"
	"github.com/invitegate/invitegate/internal/invitestats"
)

func statsCommand() command {
	var top int
	var output string
	return command{
		name:     "stats",
		summary:  "count invitations by status, application and domain, and sign-ups per day",
		usage:    "[--top N] [--output text|json]",
		examples: []string{"invitectl stats", "invitectl stats --top 25", "invitectl stats --output json | jq .sign_ups.per_day"},
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
			st, err := invitestats.Count(c.ctx, s, c.now(), top)
			if err != nil {
				return err
			}
			if output == "json" {
				enc := json.NewEncoder(c.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(st)
			}
			printStats(c.stdout, st)
			return nil
		},
	}
}

func printStats(w io.Writer, st invitestats.Stats) {
	line := func(indent int, label string, n any, rest string) {
		fmt.Fprintf(w, "%-*s%-*s %8v%s\n", indent, "", 42-indent, printable(label), n, rest)
	}
	line(0, "invitations", st.Invitations, "")
	for _, k := range []string{"pending", "redeemed", "expired", "revoked"} {
		line(2, k, st.ByStatus[k], "")
	}
	fmt.Fprintln(w, "applications")
	apps := make([]string, 0, len(st.ByApp))
	for app := range st.ByApp {
		apps = append(apps, app)
	}
	sort.Strings(apps)
	for _, app := range apps {
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
	fmt.Fprintf(w, "addresses by the day of their first sign-up (UTC, last %d days)\n", len(st.SignUps.PerDay))
	most := 0
	for _, d := range st.SignUps.PerDay {
		most = max(most, d.Addresses)
	}
	for _, d := range st.SignUps.PerDay {
		bar := ""
		if d.Addresses > 0 {
			bar = " " + strings.Repeat("#", max(1, d.Addresses*30/most))
		}
		line(2, d.Date, d.Addresses, bar)
	}
}
