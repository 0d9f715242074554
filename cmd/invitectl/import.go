package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/invitegate/invitegate/internal/invite"
)

type importFlags struct {
	dryRun, skipInvalid, ignoreUnknown, verbose bool
	workers                                     int
	send                                        bool // then mail those never mailed
}

func importCommand() command {
	var f importFlags
	return command{
		name:    "import",
		summary: "create or update invitations from a CSV file (safe to re-run)",
		usage:   "FILE|- [--dry-run] [--skip-invalid] [--ignore-unknown] [--verbose] [--concurrency N]",
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

// importPlan is what checking the whole file found.
type importPlan struct {
	header   *header
	rows     int          // rows to apply
	problems []string     // "line N: reason", in file order
	skip     map[int]bool // lines not to apply: invalid rows and duplicates
	dups     []int        // lines of duplicate rows, identical to an earlier one
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

	plan, err := checkImport(in, now, f.ignoreUnknown)
	for _, p := range plan.problems {
		fmt.Fprintln(c.stderr, p)
	}
	if err != nil {
		return err
	}
	if len(plan.header.unknown) > 0 {
		fmt.Fprintf(c.stderr, "ignoring columns %s\n", strings.Join(plan.header.unknown, ", "))
	}
	if n := len(plan.problems); n > 0 && !f.skipInvalid {
		return usagef("%s invalid; nothing was written: fix %s, or import the rest with --skip-invalid", plural(n, "row is", "rows are"), pronoun(n))
	}

	s, err := c.open()
	if err != nil {
		return err
	}
	if err := in.rewind(); err != nil {
		return err
	}
	r := newCSVReader(in, maxRecord)
	if _, _, err := r.Read(); err != nil { // the header, checked already
		return fmt.Errorf("reading the file again: %v", err)
	}
	h := plan.header
	next := func() (importRow, bool, error) {
		for {
			fields, line, err := r.Read()
			if err == io.EOF {
				return importRow{}, false, nil
			} else if err != nil {
				return importRow{}, false, fmt.Errorf("the file changed while importing (%v): run the import again", err)
			}
			if plan.skip[line] || blankRow(fields) {
				continue
			}
			row, problems := h.parseRow(fields, line, now)
			if len(problems) > 0 {
				return importRow{}, false, fmt.Errorf("the file changed while importing (line %d is now invalid): run the import again", line)
			}
			return row, true, nil
		}
	}
	type result struct {
		row     importRow
		kind    string // "new", "update" or "unchanged"
		changed []string
		err     error
	}
	// Into a table without invitations (a first load, a restore) each row
	// is one insert instead of a read and a write; a row that appeared
	// meanwhile takes the general path.
	empty := false
	if !f.dryRun {
		if empty, err = noInvitations(c.ctx, s); err != nil {
			return storeError(err)
		}
	}
	work := func(ctx context.Context, row importRow) result {
		res := result{row: row, kind: "new"}
		if empty {
			err := s.Create(ctx, h.apply(row, nil, now))
			if !errors.Is(err, invite.ErrExists) {
				res.err = err
				return res
			}
		}
		res.err = s.Update(ctx, row.key, func(cur *invite.Invitation) (*invite.Invitation, error) {
			next := h.apply(row, cur, now)
			res.kind, res.changed = "new", nil
			if cur != nil {
				if res.changed = changes(*cur, next); len(res.changed) == 0 {
					res.kind = "unchanged"
					return nil, nil
				}
				res.kind = "update"
			}
			if f.dryRun {
				return nil, nil
			}
			return &next, nil
		})
		return res
	}
	verb := "importing"
	if f.dryRun {
		verb = "checking"
	}
	counts := map[string]int{}
	prog := c.startProgress(verb, plan.rows)
	err = forEachOrdered(c.ctx, f.workers, next, work, func(res result) error {
		if res.err != nil {
			return fmt.Errorf("line %d (%s): %w", res.row.line, res.row.key, res.err)
		}
		counts[res.kind]++
		prog.add(1)
		if res.kind != "unchanged" && (f.dryRun || f.verbose) {
			prog.printf(c.stdout, "line %-6d %-7s %s%s\n", res.row.line, res.kind, res.row.key, changedText(res.changed))
		}
		return nil
	})
	prog.stop()

	tally := fmt.Sprintf("%d new, %d updated, %d unchanged", counts["new"], counts["update"], counts["unchanged"])
	var notes []string
	if n := len(plan.problems); n > 0 {
		notes = append(notes, plural(n, "invalid row", "invalid rows")+" skipped")
	}
	if n := len(plan.dups); n > 0 {
		notes = append(notes, fmt.Sprintf("%s identical to an earlier one ignored (%s)", plural(n, "row", "rows"), linesText(plan.dups)))
	}
	if len(notes) > 0 {
		tally += "; " + strings.Join(notes, "; ")
	}
	switch {
	case err != nil && c.ctx.Err() != nil: // Ctrl-C
		fmt.Fprintf(c.stdout, "interrupted after %s of %d rows (%s): every row is written whole or not at all; run the same import again to finish\n",
			plural(counts["new"]+counts["update"]+counts["unchanged"], "row", "rows"), plan.rows, tally)
		return errors.New("interrupted")
	case err != nil:
		fmt.Fprintf(c.stdout, "stopped: %s before the failure; every row is written whole or not at all: fix the cause and run the same import again to finish\n", tally)
		return storeError(err)
	case f.dryRun:
		fmt.Fprintf(c.stdout, "dry run: %s: %s; nothing was written\n", plural(plan.rows, "row", "rows"), tally)
	default:
		fmt.Fprintf(c.stdout, "imported %s: %s\n", plural(plan.rows, "row", "rows"), tally)
	}
	return nil
}

// noInvitations reports whether the table holds no invitation.
func noInvitations(ctx context.Context, s invite.Store) (bool, error) {
	found := errors.New("found one")
	err := s.List(ctx, "", func(invite.Invitation) error { return found })
	if errors.Is(err, found) {
		return false, nil
	}
	return err == nil, err
}

// checkImport reads the whole file and checks every row. Its error is the
// reason the file cannot be imported at all (no header, broken CSV);
// problems lists the invalid rows.
func checkImport(r io.Reader, now time.Time, ignoreUnknown bool) (importPlan, error) {
	plan := importPlan{skip: map[int]bool{}}
	cr := newCSVReader(r, maxRecord)
	fields, line, err := cr.Read()
	switch {
	case err == io.EOF:
		return plan, usagef("line 1: the file is empty: the first line must name the columns, such as email,app,expires,note")
	case isSyntax(err):
		return plan, usageError{err.Error()}
	case err != nil:
		return plan, fmt.Errorf("reading the file: %v", err)
	}
	if plan.header, err = parseHeader(fields, line); err != nil {
		return plan, err
	}
	if u := plan.header.unknown; len(u) > 0 && !ignoreUnknown {
		return plan, usagef("line %d: unknown column %s: the columns are %s, prefill.NAME and set.NAME (or use --ignore-unknown)",
			line, strings.Join(u, ", "), strings.Join(fixedColumns, ", "))
	}
	type seen struct {
		line int
		sum  [16]byte
	}
	first := map[invite.Key]seen{}
	conflicted := map[invite.Key]bool{}
	for {
		fields, line, err := cr.Read()
		if err == io.EOF {
			break
		} else if isSyntax(err) {
			return plan, usagef("%v; nothing was written", err)
		} else if err != nil {
			return plan, fmt.Errorf("reading the file: %v", err)
		}
		if blankRow(fields) {
			continue
		}
		row, problems := plan.header.parseRow(fields, line, now)
		if len(problems) > 0 {
			plan.problems = append(plan.problems, fmt.Sprintf("line %d: %s", line, strings.Join(problems, "; ")))
			plan.skip[line] = true
			continue
		}
		sum := row.fingerprint()
		prev, dup := first[row.key]
		switch {
		case !dup:
			// A copy: the key must not pin the whole record in memory.
			first[invite.Key{Subject: strings.Clone(row.key.Subject), App: strings.Clone(row.key.App)}] = seen{line, sum}
		case prev.sum == sum && !conflicted[row.key]:
			plan.dups = append(plan.dups, line)
			plan.skip[line] = true
		default:
			plan.problems = append(plan.problems, fmt.Sprintf("line %d: %s is also on line %d, with different values: keep one of them", line, row.key, prev.line))
			plan.skip[line], plan.skip[prev.line] = true, true
			conflicted[row.key] = true
		}
	}
	plan.rows = len(first) - len(conflicted)
	return plan, nil
}

// blankRow reports whether every cell is empty, as in the trailing rows
// spreadsheets write.
func blankRow(fields []string) bool {
	for _, f := range fields {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
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

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func pronoun(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}
