package invitecsv

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/invitegate/invitegate/internal/invite"
)

// Options say how Check judges a file.
type Options struct {
	// Now is when the import runs: relative expiries count from it.
	Now time.Time
	// IgnoreUnknown accepts columns that are not part of the format.
	IgnoreUnknown bool
	// AllowPublicDomain accepts whole-domain invitations for public mail
	// providers (invite.PublicMailDomain).
	AllowPublicDomain bool
	// Fits, when set, says why an invitation cannot be stored, such as
	// tablestore.CheckSize; a row that creates such an invitation is
	// invalid.
	Fits func(invite.Invitation) error
}

// Plan is what checking a whole import file found.
type Plan struct {
	// Rows is how many rows are to be applied.
	Rows int
	// Problems are the invalid rows, in file order.
	Problems []*Error
	// Duplicates are the lines of rows identical to an earlier one.
	Duplicates []int
	// Unknown names the columns that are ignored (Options.IgnoreUnknown).
	Unknown []string

	header *header
	skip   map[int]bool // lines not to apply: invalid rows and duplicates
	opts   Options
}

// Check reads the whole file and checks every row, before anything is
// written. Its error is the reason the file cannot be imported at all (an
// *Error for an empty file, a bad header or broken CSV; another error when
// the file cannot be read); the invalid rows are in the plan's Problems.
// Two rows for the same invitation count once when they are identical,
// and are both invalid when they differ.
func Check(r io.Reader, o Options) (*Plan, error) {
	plan := &Plan{skip: map[int]bool{}, opts: o}
	cr := newReader(r, maxRecord)
	fields, line, err := cr.Read()
	switch {
	case err == io.EOF:
		return plan, errorf(1, "the file is empty: the first line must name the columns, such as email,app,expires,note")
	case isSyntax(err):
		return plan, err
	case err != nil:
		return plan, fmt.Errorf("reading the file: %v", err)
	}
	if plan.header, err = parseHeader(fields, line); err != nil {
		return plan, err
	}
	plan.Unknown = plan.header.unknown
	if u := plan.Unknown; len(u) > 0 && !o.IgnoreUnknown {
		return plan, errorf(line, "unknown column %s: the columns are %s, prefill.NAME and set.NAME (or use --ignore-unknown)",
			strings.Join(u, ", "), strings.Join(fixedColumns, ", "))
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
			return plan, err
		} else if err != nil {
			return plan, fmt.Errorf("reading the file: %v", err)
		}
		if blankRow(fields) {
			continue
		}
		row, problems := plan.parseRow(fields, line)
		if len(problems) > 0 {
			plan.Problems = append(plan.Problems, errorf(line, "%s", strings.Join(problems, "; ")))
			plan.skip[line] = true
			continue
		}
		sum := row.fingerprint()
		prev, dup := first[row.Key]
		switch {
		case !dup:
			// A copy: the key must not pin the whole record in memory.
			first[invite.Key{Subject: strings.Clone(row.Key.Subject), App: strings.Clone(row.Key.App)}] = seen{line, sum}
		case prev.sum == sum && !conflicted[row.Key]:
			plan.Duplicates = append(plan.Duplicates, line)
			plan.skip[line] = true
		default:
			plan.Problems = append(plan.Problems, errorf(line, "%s is also on line %d, with different values: keep one of them", row.Key, prev.line))
			plan.skip[line], plan.skip[prev.line] = true, true
			conflicted[row.Key] = true
		}
	}
	plan.Rows = len(first) - len(conflicted)
	return plan, nil
}

// parseRow parses a row and applies the checks of the plan's options.
func (p *Plan) parseRow(fields []string, line int) (Row, []string) {
	row, problems := p.header.parseRow(fields, line, p.opts.Now)
	if len(problems) > 0 {
		return row, problems
	}
	if err := invite.CheckPublicDomain(row.Key); err != nil && !p.opts.AllowPublicDomain {
		problems = append(problems, "email: "+err.Error())
	}
	if p.opts.Fits != nil {
		if err := p.opts.Fits(row.Apply(nil, p.opts.Now)); err != nil {
			problems = append(problems, err.Error())
		}
	}
	return row, problems
}

// Replay reads the file again, from its start, and yields the rows the
// plan applies: not the invalid ones, not the duplicates. Next returns
// false at the end, and an error if the file changed since Check.
func (p *Plan) Replay(r io.Reader) (next func() (Row, bool, error), err error) {
	cr := newReader(r, maxRecord)
	if _, _, err := cr.Read(); err != nil { // the header, checked already
		return nil, fmt.Errorf("reading the file again: %v", err)
	}
	return func() (Row, bool, error) {
		for {
			fields, line, err := cr.Read()
			if err == io.EOF {
				return Row{}, false, nil
			} else if err != nil {
				return Row{}, false, fmt.Errorf("the file changed while importing (%v): run the import again", err)
			}
			if p.skip[line] || blankRow(fields) {
				continue
			}
			row, problems := p.parseRow(fields, line)
			if len(problems) > 0 {
				return Row{}, false, fmt.Errorf("the file changed while importing (line %d is now invalid): run the import again", line)
			}
			return row, true, nil
		}
	}, nil
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
