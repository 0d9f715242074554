package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/invitegate/invitegate/internal/bulk"
	"github.com/invitegate/invitegate/internal/invite"
	"github.com/invitegate/invitegate/internal/invitecsv"
)

// keyAction is what revoke or delete does to one invitation: each returns
// one of outcomes, the first of which is done; "not found" is one of them.
type keyAction struct {
	name, summary, done string
	outcomes            []string
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
			switch outcome, err := a.each(c.ctx, s, k); {
			case err != nil:
				return err
			case outcome == "not found":
				return fmt.Errorf("no invitation for %s", keyText(k))
			}
			fmt.Fprintf(c.stdout, "%s %s\n", a.done, keyText(k))
			return nil
		},
	}
}

// runKeyFile checks every line of the file, then acts on each invitation
// it names, concurrently. An invitation that is not there is counted, not
// an error, so that a run cut short can simply be repeated.
func runKeyFile(c *cli, a keyAction, file, app string, workers int, verbose bool) error {
	if app != "" {
		if _, err := invite.ParseApp(app); err != nil {
			return usagef("--app: %v", err)
		}
	}
	in, err := c.openInput(file)
	if err != nil {
		return err
	}
	defer in.close()
	keys, problems, err := invitecsv.ReadKeys(in, app)
	for _, p := range problems {
		fmt.Fprintln(c.stderr, p)
	}
	if err != nil {
		return err
	}
	if n := len(problems); n > 0 {
		return usagef("%s invalid; nothing was %s: fix %s and run again", plural(n, "line is", "lines are"), a.done, pronoun(n))
	}
	s, err := c.open()
	if err != nil {
		return err
	}
	i := 0
	next := func() (invitecsv.KeyLine, bool, error) {
		if i == len(keys) {
			return invitecsv.KeyLine{}, false, nil
		}
		i++
		return keys[i-1], true, nil
	}
	type result struct {
		invitecsv.KeyLine
		outcome string
		err     error
	}
	work := func(ctx context.Context, kl invitecsv.KeyLine) result {
		outcome, err := a.each(ctx, s, kl.Key)
		return result{kl, outcome, err}
	}
	counts := map[string]int{}
	prog := c.startProgress(a.name, len(keys))
	err = bulk.Run(c.ctx, workers, next, work, func(r result) error {
		if r.err != nil {
			return fmt.Errorf("line %d (%s): %w", r.Line, keyText(r.Key), r.err)
		}
		counts[r.outcome]++
		prog.add(1)
		if verbose {
			prog.printf(c.stdout, "line %-6d %-15s %s\n", r.Line, r.outcome, keyText(r.Key))
		}
		return nil
	})
	prog.stop()
	var tally []string
	for _, o := range a.outcomes {
		tally = append(tally, fmt.Sprintf("%d %s", counts[o], o))
	}
	if err != nil {
		fmt.Fprintf(c.stdout, "stopped: %s before the failure; run the same command again to finish\n", strings.Join(tally, ", "))
		return err
	}
	fmt.Fprintf(c.stdout, "%s: %s\n", plural(len(keys), "invitation", "invitations"), strings.Join(tally, ", "))
	return nil
}
