package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/invitegate/invitegate/internal/invite"
)

// keyLine is one invitation named in a --file of revoke or delete.
type keyLine struct {
	line int
	key  invite.Key
}

// readKeyFile reads the invitations a bulk revoke or delete acts on, in
// one of two shapes:
//
//   - CSV with a header row that has an email column and, optionally, an
//     app column; other columns are ignored, so a file from export or
//     list --output csv works as it is;
//   - a list, one EMAIL or @DOMAIN per line, for the application app.
//
// It checks every line before anything is done and returns each invalid
// one in problems. A key named twice is acted on once.
func readKeyFile(r io.Reader, app string) (keys []keyLine, problems []string, err error) {
	cr := newCSVReader(r, maxRecord)
	fields, line, err := cr.Read()
	switch {
	case err == io.EOF:
		return nil, nil, usagef("line 1: the file is empty: list one EMAIL or @DOMAIN per line, or give CSV with an email column")
	case isSyntax(err):
		return nil, nil, usageError{err.Error()}
	case err != nil:
		return nil, nil, fmt.Errorf("reading the file: %v", err)
	}
	emailAt, appAt, width := -1, -1, 1
	for i, f := range fields {
		switch strings.ToLower(strings.TrimSpace(f)) {
		case colEmail:
			emailAt, width = i, len(fields)
		case colApp:
			appAt = i
		}
	}
	if emailAt >= 0 && appAt >= 0 && app != "" {
		return nil, nil, usagef("line %d: the file has an app column and --app is given: use one of them", line)
	}
	if emailAt < 0 {
		emailAt, appAt = 0, -1 // a list: this line is data
	} else if fields, line, err = cr.Read(); err != nil && err != io.EOF {
		return nil, nil, keyFileError(err)
	}
	seen := map[invite.Key]bool{}
	for ; err != io.EOF; fields, line, err = cr.Read() {
		if err != nil {
			return nil, problems, keyFileError(err)
		}
		if blankRow(fields) {
			continue
		}
		if len(fields) != width {
			if width == 1 {
				problems = append(problems, fmt.Sprintf("line %d: expected one EMAIL or @DOMAIN per line (or a header row naming an email column)", line))
			} else {
				problems = append(problems, fmt.Sprintf("line %d: %d fields, but the header has %d columns", line, len(fields), width))
			}
			continue
		}
		k, why := fileKey(fields, emailAt, appAt, app)
		if why != "" {
			problems = append(problems, fmt.Sprintf("line %d: %s", line, why))
			continue
		}
		if !seen[k] {
			seen[k] = true
			keys = append(keys, keyLine{line, k})
		}
	}
	return keys, problems, nil
}

// fileKey reads the key of one line; why says what is wrong with it.
func fileKey(fields []string, emailAt, appAt int, app string) (k invite.Key, why string) {
	for i, f := range fields {
		if !utf8.ValidString(f) {
			return k, fmt.Sprintf("field %d is not UTF-8 text: save the file as UTF-8", i+1)
		}
	}
	if appAt >= 0 {
		app = fields[appAt]
	}
	var err error
	if k.Subject, err = invite.ParseSubject(fields[emailAt]); err != nil {
		return k, err.Error()
	}
	if k.App, err = invite.ParseApp(app); err != nil {
		return k, "app: " + err.Error()
	}
	return k, ""
}

func keyFileError(err error) error {
	if isSyntax(err) {
		return usageError{err.Error()}
	}
	return fmt.Errorf("reading the file: %v", err)
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
	keys, problems, err := readKeyFile(in, app)
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
	next := func() (keyLine, bool, error) {
		if i == len(keys) {
			return keyLine{}, false, nil
		}
		i++
		return keys[i-1], true, nil
	}
	type result struct {
		keyLine
		outcome string
		err     error
	}
	work := func(ctx context.Context, kl keyLine) result {
		outcome, err := a.each(ctx, s, kl.key)
		return result{kl, outcome, err}
	}
	counts := map[string]int{}
	prog := c.startProgress(a.name, len(keys))
	err = forEachOrdered(c.ctx, workers, next, work, func(r result) error {
		if r.err != nil {
			return fmt.Errorf("line %d (%s): %w", r.line, r.key, r.err)
		}
		counts[r.outcome]++
		prog.add(1)
		if verbose {
			prog.printf(c.stdout, "line %-6d %-15s %s\n", r.line, r.outcome, r.key)
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
		return storeError(err)
	}
	fmt.Fprintf(c.stdout, "%s: %s\n", plural(len(keys), "invitation", "invitations"), strings.Join(tally, ", "))
	return nil
}
