package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/invitegate/invitegate/internal/bulk"
	"github.com/invitegate/invitegate/internal/invitecsv"
	"github.com/invitegate/invitegate/internal/tablestore"
)

type importFlags struct {
	dryRun, skipInvalid, ignoreUnknown, verbose, allowPublicDomain bool
	workers                                                        int
	send                                                           bool // then mail those never mailed
}

func importCommand() command {
	var f importFlags
	return command{
		name:    "import",
		summary: "create or update invitations from a CSV file (safe to re-run)",
		usage:   "FILE|- [--dry-run] [--skip-invalid] [--ignore-unknown] [--allow-public-domain] [--verbose] [--concurrency N] [--send]",
		examples: []string{
			"invitectl import partners.csv --dry-run",
			"invitectl import partners.csv",
			"invitectl init --table restored && invitectl import backup.csv --table restored",
			"printf 'email,expires\\njo@example.org,30d\\n' | invitectl import -",
		},
		flags: func(fs *flag.FlagSet, c *cli) {
			fs.BoolVar(&f.dryRun, "dry-run", false, "show what would change; write nothing")
			fs.BoolVar(&f.skipInvalid, "skip-invalid", false, "import the valid rows even if some are invalid")
			fs.BoolVar(&f.ignoreUnknown, "ignore-unknown", false, "ignore columns that are not part of the format")
			fs.BoolVar(&f.allowPublicDomain, "allow-public-domain", false, "allow whole-domain invitations for public mail providers such as gmail.com (anyone can get an address there)")
			fs.BoolVar(&f.verbose, "verbose", false, "list every row created or updated")
			fs.IntVar(&f.workers, "concurrency", defaultWorkers, "`N` rows written at once")
			fs.BoolVar(&f.send, "send", false, "then email their sign-up link to the file's invitations never mailed before")
		},
		run: func(c *cli, fs *flag.FlagSet) error {
			a, err := args(fs, 1, 1, "one FILE, or - for standard input")
			if err != nil {
				return err
			}
			if f.workers, err = workersFlag(f.workers); err != nil {
				return err
			}
			if f.send && a[0] == "-" {
				return usagef("--send reads the file again after the import: give a file name, not -")
			}
			if err := runImport(c, a[0], f); err != nil || !f.send || f.dryRun {
				return err
			}
			targets, err := fileTargets(c, a[0], "")
			if err != nil {
				return err
			}
			return sendAfter(c, targets, "", true)
		},
	}
}

// runImport checks every row of the file before it writes any: a file
// with an invalid row changes nothing unless --skip-invalid. Then it reads
// the file again and applies each row as one conditional write, so a crash
// leaves each row either written or not, and a re-run finishes the job
// without rewriting what is already there.
func runImport(c *cli, name string, f importFlags) error {
	in, err := c.openInput(name)
	if err != nil {
		return err
	}
	defer in.close()
	now := c.now().UTC()

	plan, err := invitecsv.Check(in, invitecsv.Options{Now: now, IgnoreUnknown: f.ignoreUnknown,
		AllowPublicDomain: f.allowPublicDomain, Fits: tablestore.CheckSize})
	var ce *invitecsv.Error
	if errors.As(err, &ce) {
		return fmt.Errorf("%w; nothing was written", err)
	} else if err != nil {
		return err
	}
	for _, p := range plan.Problems {
		fmt.Fprintln(c.stderr, printable(p.Error()))
	}
	if len(plan.Unknown) > 0 {
		fmt.Fprintf(c.stderr, "ignoring columns %s\n", printable(strings.Join(plan.Unknown, ", ")))
	}
	if n := len(plan.Problems); n > 0 && !f.skipInvalid {
		return usagef("%s invalid; nothing was written: fix %s, or import the rest with --skip-invalid", plural(n, "row is", "rows are"), pronoun(n))
	}

	s, err := c.open()
	if err != nil {
		return err
	}
	if err := in.rewind(); err != nil {
		return err
	}
	next, err := plan.Replay(in)
	if err != nil {
		return err
	}
	im, err := invitecsv.NewImporter(c.ctx, s, now, f.dryRun)
	if err != nil {
		return err
	}
	verb := "importing"
	if f.dryRun {
		verb = "checking"
	}
	counts := map[invitecsv.Kind]int{}
	var domains, lifted []invitecsv.Result
	prog := c.startProgress(verb, plan.Rows)
	err = bulk.Run(c.ctx, f.workers, next, im.Import, func(res invitecsv.Result) error {
		if res.Err != nil {
			return fmt.Errorf("line %d (%s): %w", res.Line, keyText(res.Key), res.Err)
		}
		counts[res.Kind]++
		prog.add(1)
		if res.Kind == invitecsv.Created && res.Key.IsDomain() {
			domains = append(domains, res)
		}
		if res.Lifted {
			lifted = append(lifted, res)
		}
		if res.Kind != invitecsv.Unchanged && (f.dryRun || f.verbose) {
			prog.printf(c.stdout, "line %-6d %-7s %s%s\n", res.Line, res.Kind, keyText(res.Key), changedText(res.Changed))
		}
		return nil
	})
	prog.stop()

	tally := fmt.Sprintf("%d new, %d updated, %d unchanged", counts[invitecsv.Created], counts[invitecsv.Updated], counts[invitecsv.Unchanged])
	var notes []string
	if n := len(plan.Problems); n > 0 {
		notes = append(notes, plural(n, "invalid row", "invalid rows")+" skipped")
	}
	if n := len(plan.Duplicates); n > 0 {
		notes = append(notes, fmt.Sprintf("%s identical to an earlier one ignored (%s)", plural(n, "row", "rows"), linesText(plan.Duplicates)))
	}
	if len(notes) > 0 {
		tally += "; " + strings.Join(notes, "; ")
	}
	switch {
	case err != nil && c.ctx.Err() != nil: // Ctrl-C
		fmt.Fprintf(c.stdout, "interrupted after %s of %d rows (%s): every row is written whole or not at all; run the same import again to finish\n",
			plural(counts[invitecsv.Created]+counts[invitecsv.Updated]+counts[invitecsv.Unchanged], "row", "rows"), plan.Rows, tally)
		err = errors.New("interrupted")
	case err != nil:
		fmt.Fprintf(c.stdout, "stopped: %s before the failure; every row is written whole or not at all: fix the cause and run the same import again to finish\n", tally)
	case f.dryRun:
		fmt.Fprintf(c.stdout, "dry run: %s: %s; nothing was written\n", plural(plan.Rows, "row", "rows"), tally)
	default:
		fmt.Fprintf(c.stdout, "imported %s: %s\n", plural(plan.Rows, "row", "rows"), tally)
	}
	// What widens who may sign up is listed, whatever --verbose says.
	created, lift := "created", "lifted"
	if f.dryRun {
		created, lift = "would create", "would lift"
	}
	listResults(c.stdout, created, domains, "whole-domain invitation", "whole-domain invitations")
	listResults(c.stdout, lift, lifted, "revocation", "revocations")
	return err
}

// listResults prints "VERB N THINGS:" and the line and key of each result.
func listResults(w io.Writer, verb string, results []invitecsv.Result, one, many string) {
	if len(results) == 0 {
		return
	}
	fmt.Fprintf(w, "%s %s:\n", verb, plural(len(results), one, many))
	for _, r := range results {
		fmt.Fprintf(w, "  line %-6d %s\n", r.Line, keyText(r.Key))
	}
}

func changedText(fields []string) string {
	if len(fields) == 0 {
		return ""
	}
	return ": " + strings.Join(fields, ", ")
}

func linesText(lines []int) string {
	const show = 10
	var parts []string
	for i, l := range lines {
		if i == show {
			parts = append(parts, fmt.Sprintf("and %d more", len(lines)-show))
			break
		}
		parts = append(parts, fmt.Sprint(l))
	}
	return "line " + strings.Join(parts, ", ")
}
