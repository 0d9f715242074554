// Package invitecsv is the CSV format of invitations: the file invitectl
// import reads, and export and list --output csv write. It holds the
// column model (columns.go), a strict reader that reports problems with
// their line numbers (reader.go), the row parser (row.go), the whole-file
// check that plans an import (plan.go), the Importer that applies the
// plan's rows with invite.Change (importer.go), the writer (writer.go),
// the neutralising of cells a spreadsheet would run as formulas
// (formula.go), and the key files of revoke and delete --file (keys.go).
//
// Every problem with the input is an *Error carrying its line number.
package invitecsv

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/invitegate/invitegate/internal/invite"
)

// The columns:
//
//	email           an address, or @domain.tld for a whole domain (required)
//	app             an appId; empty (or *) for any application
//	expires         a date, an RFC 3339 time, or a duration such as 30d; empty: never
//	note            free text
//	status          pending | redeemed | revoked
//	created, redeemed_first, redeemed_last   RFC 3339 times, UTC
//	redemptions     how many sign-ups used the invitation
//	sent            how many invitation messages the mail server accepted
//	sent_first, sent_last   RFC 3339 times, UTC, of the first and last of them
//	prefill.NAME    a value suggested for attribute NAME on the sign-up form
//	set.NAME        a value enforced for attribute NAME on submit
//
// Fixed column names are case-insensitive; attribute names are not. An
// empty cell of prefill.NAME or set.NAME means "no value".
const (
	colEmail       = "email"
	colApp         = "app"
	colExpires     = "expires"
	colNote        = "note"
	colStatus      = "status"
	colCreated     = "created"
	colFirst       = "redeemed_first"
	colLast        = "redeemed_last"
	colRedemptions = "redemptions"
	colSent        = "sent"
	colSentFirst   = "sent_first"
	colSentLast    = "sent_last"
	prefillPrefix  = "prefill."
	setPrefix      = "set."
)

// fixedColumns is the order export writes; prefill.* and set.* follow,
// each sorted by name.
var fixedColumns = []string{colEmail, colApp, colExpires, colNote, colStatus, colCreated, colFirst, colLast, colRedemptions,
	colSent, colSentFirst, colSentLast}

// attrColumn is a prefill.NAME or set.NAME column.
type attrColumn struct {
	name string
	at   int
}

// header is the first row of an invitation file: which column holds what.
type header struct {
	at      map[string]int // fixed column → position
	prefill []attrColumn
	set     []attrColumn
	unknown []string
	width   int
}

func (h *header) has(col string) bool { _, ok := h.at[col]; return ok }

// parseHeader reads the header row. Unknown columns are collected, not
// rejected: the caller decides.
func parseHeader(fields []string, line int) (*header, error) {
	h := &header{at: map[string]int{}, width: len(fields)}
	seen := map[string]int{}
	var problems []string
	for i, raw := range fields {
		if !utf8.ValidString(raw) {
			return nil, errorf(line, "the header is not UTF-8 text: save the file as UTF-8")
		}
		name := strings.TrimSpace(raw)
		lower := strings.ToLower(name)
		id := lower
		switch {
		case name == "":
			problems = append(problems, fmt.Sprintf("column %d has no name", i+1))
			continue
		case strings.HasPrefix(lower, prefillPrefix), strings.HasPrefix(lower, setPrefix):
			prefix, attr, _ := strings.Cut(name, ".")
			if attr == "" {
				problems = append(problems, fmt.Sprintf("column %d (%s) has no attribute name after the dot", i+1, name))
				continue
			}
			if _, _, err := invite.ParseAttribute(attr + "="); err != nil {
				problems = append(problems, fmt.Sprintf("column %d (%s): %v", i+1, name, err))
				continue
			}
			id = strings.ToLower(prefix) + "." + attr
			if strings.EqualFold(prefix, "prefill") {
				h.prefill = append(h.prefill, attrColumn{attr, i})
			} else {
				h.set = append(h.set, attrColumn{attr, i})
			}
		case isFixedColumn(lower):
			h.at[lower] = i
		default:
			h.unknown = append(h.unknown, name)
		}
		if first, dup := seen[id]; dup {
			problems = append(problems, fmt.Sprintf("columns %d and %d are both %s", first+1, i+1, name))
		}
		seen[id] = i
	}
	if !h.has(colEmail) {
		const need = ": the first line must name the columns, such as email,app,expires,note"
		for _, f := range fields {
			if strings.Contains(f, "@") {
				// A file without a header: say so, not what is odd about
				// its first row as a header.
				return nil, errorf(line, "the first line looks like data (%q), not a header%s", f, need)
			}
		}
		problems = append(problems, "the header has no email column"+need)
	}
	if len(problems) > 0 {
		return nil, errorf(line, "%s", strings.Join(problems, "; "))
	}
	return h, nil
}

func isFixedColumn(name string) bool {
	for _, c := range fixedColumns {
		if c == name {
			return true
		}
	}
	return false
}
