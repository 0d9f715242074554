package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/invitegate/invitegate/internal/invite"
)

// The CSV format of invitations, shared by import, export and list:
//
//	email           an address, or @domain.tld for a whole domain (required)
//	app             an appId; empty (or *) for any application
//	expires         a date, an RFC 3339 time, or a duration such as 30d; empty: never
//	note            free text
//	status          pending | redeemed | revoked
//	created, redeemed_first, redeemed_last   RFC 3339 times, UTC
//	redemptions     how many sign-ups used the invitation
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
	prefillPrefix  = "prefill."
	setPrefix      = "set."
)

// fixedColumns is the order export writes; prefill.* and set.* follow,
// each sorted by name.
var fixedColumns = []string{colEmail, colApp, colExpires, colNote, colStatus, colCreated, colFirst, colLast, colRedemptions}

// maxPropertyChars is the most UTF-16 code units Table Storage keeps in
// one string property (64 KiB).
const maxPropertyChars = 32 << 10

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
// rejected: the caller decides. Every other problem is a usageError.
func parseHeader(fields []string, line int) (*header, error) {
	h := &header{at: map[string]int{}, width: len(fields)}
	seen := map[string]int{}
	var problems []string
	for i, raw := range fields {
		if !utf8.ValidString(raw) {
			return nil, usagef("line %d: the header is not UTF-8 text: save the file as UTF-8", line)
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
				return nil, usagef("line %d: the first line looks like data (%q), not a header%s", line, f, need)
			}
		}
		problems = append(problems, "the header has no email column"+need)
	}
	if len(problems) > 0 {
		return nil, usagef("line %d: %s", line, strings.Join(problems, "; "))
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

// importRow is one valid row of an import file.
type importRow struct {
	line        int
	key         invite.Key
	expires     time.Time
	note        string
	status      invite.Status // "" when not given
	created     time.Time
	first, last time.Time
	count       int64
	prefill     map[string]string // the row's non-empty attribute cells
	set         map[string]string
}

// parseRow checks one data row. Relative expiries count from now. It
// returns every problem of the row, so the administrator fixes them at once.
func (h *header) parseRow(fields []string, line int, now time.Time) (importRow, []string) {
	row := importRow{line: line}
	if len(fields) != h.width {
		return row, []string{fmt.Sprintf("%d fields, but the header has %d columns", len(fields), h.width)}
	}
	for i, f := range fields {
		if !utf8.ValidString(f) {
			return row, []string{fmt.Sprintf("field %d is not UTF-8 text: save the file as UTF-8", i+1)}
		}
	}
	var problems []string
	bad := func(col string, err error) { problems = append(problems, col+": "+err.Error()) }
	cell := func(col string) string {
		if i, ok := h.at[col]; ok {
			return fields[i]
		}
		return ""
	}

	subject, err := invite.ParseSubject(cell(colEmail))
	if cell(colEmail) == "" {
		err = fmt.Errorf("is empty")
	}
	if err != nil {
		bad(colEmail, err)
	}
	app, err := invite.ParseApp(cell(colApp))
	if err != nil {
		bad(colApp, err)
	}
	row.key = invite.Key{Subject: subject, App: app}
	if row.expires, err = invite.ParseExpiry(cell(colExpires), now); err != nil {
		bad(colExpires, err)
	}
	row.note = cell(colNote)
	if utf16Len(row.note) > maxPropertyChars {
		problems = append(problems, fmt.Sprintf("note: longer than %d characters", maxPropertyChars))
	}
	if s := strings.TrimSpace(cell(colStatus)); strings.EqualFold(s, "expired") {
		problems = append(problems, "status: expired is not stored, it follows from expires: use pending, redeemed or revoked")
	} else if s != "" {
		if row.status, err = invite.ParseStatus(s); err != nil {
			bad(colStatus, err)
		}
	}
	for _, t := range []struct {
		col string
		dst *time.Time
	}{{colCreated, &row.created}, {colFirst, &row.first}, {colLast, &row.last}} {
		if *t.dst, err = parseStoredTime(cell(t.col)); err != nil {
			bad(t.col, err)
		}
	}
	if s := strings.TrimSpace(cell(colRedemptions)); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 || n > math.MaxInt32 {
			problems = append(problems, fmt.Sprintf("redemptions: %q is not a count of sign-ups", s))
		}
		row.count = n
	}
	row.prefill, err = attributeCells(fields, h.prefill)
	if err != nil {
		bad("prefill", err)
	}
	row.set, err = attributeCells(fields, h.set)
	if err != nil {
		bad("set", err)
	}
	return row, problems
}

func attributeCells(fields []string, cols []attrColumn) (map[string]string, error) {
	var m map[string]string
	for _, c := range cols {
		if v := fields[c.at]; v != "" {
			if m == nil {
				m = map[string]string{}
			}
			m[c.name] = v
		}
	}
	if b, _ := json.Marshal(m); utf16Len(string(b)) > maxPropertyChars {
		return nil, fmt.Errorf("the values take more than %d characters together", maxPropertyChars)
	}
	return m, nil
}

func parseStoredTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time such as 2026-11-26T08:00:00Z", s)
	}
	return t.UTC(), nil
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r >= 0x10000 {
			n++
		}
	}
	return n
}

// fingerprint identifies a row's content, to tell identical duplicate rows
// from conflicting ones.
func (row importRow) fingerprint() [16]byte {
	h := fnv.New128a()
	fmt.Fprintf(h, "%q|%q|%s|%q|%s|%s|%s|%s|%d", row.key.Subject, row.key.App, stamp(row.expires), row.note, row.status,
		stamp(row.created), stamp(row.first), stamp(row.last), row.count)
	for _, m := range []map[string]string{row.prefill, row.set} {
		for _, n := range sortedNames(m) {
			fmt.Fprintf(h, "|%q=%q", n, m[n])
		}
		h.Write([]byte{0})
	}
	var sum [16]byte
	h.Sum(sum[:0])
	return sum
}

// apply returns the invitation that importing row over cur (nil when there
// is none) gives: see invite.Change. A column the file has sets that
// field; an empty cell clears it. A column the file lacks leaves an
// existing invitation's field alone.
func (h *header) apply(row importRow, cur *invite.Invitation, now time.Time) invite.Invitation {
	c := invite.Change{Key: row.key, Status: row.status, Created: row.created,
		Redemptions: invite.Redemptions{Count: row.count, First: row.first, Last: row.last}}
	if h.has(colExpires) {
		c.Expires = &row.expires
	}
	if h.has(colNote) {
		c.Note = &row.note
	}
	c.Prefill, c.Set = attributeChange(h.prefill, row.prefill), attributeChange(h.set, row.set)
	return c.Apply(cur, now)
}

// attributeChange sets every attribute the file has a column for to the
// row's value, removing it where the cell was empty.
func attributeChange(cols []attrColumn, row map[string]string) invite.Values {
	v := invite.Values{Put: row}
	for _, c := range cols {
		if _, ok := row[c.name]; !ok {
			v.Remove = append(v.Remove, c.name)
		}
	}
	return v
}

// changes names the fields that differ between a and b; none means the
// row need not be written.
func changes(a, b invite.Invitation) []string {
	var out []string
	diff := func(name string, differ bool) {
		if differ {
			out = append(out, name)
		}
	}
	diff(colStatus, a.Status != b.Status)
	diff(colExpires, !a.Expires.Equal(b.Expires))
	diff(colNote, a.Note != b.Note)
	diff(colCreated, !a.Created.Equal(b.Created))
	diff(colRedemptions, a.Count != b.Count)
	diff(colFirst, !a.First.Equal(b.First))
	diff(colLast, !a.Last.Equal(b.Last))
	for _, kv := range []struct {
		prefix string
		a, b   map[string]string
	}{{prefillPrefix, a.Prefill, b.Prefill}, {setPrefix, a.Set, b.Set}} {
		names := map[string]bool{}
		for n := range kv.a {
			names[n] = true
		}
		for n := range kv.b {
			names[n] = true
		}
		for _, n := range sortedNames(names) {
			va, ina := kv.a[n]
			vb, inb := kv.b[n]
			diff(kv.prefix+n, va != vb || ina != inb)
		}
	}
	return out
}

func sortedNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// stamp renders a stored time as export writes it: RFC 3339 in UTC, with
// as many fractional digits as it has; "" for none.
func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// csvOut writes invitations in the CSV format with a fixed set of
// attribute columns.
type csvOut struct {
	w       *csv.Writer
	prefill []string
	set     []string
}

func newCSVOut(w io.Writer, prefill, set map[string]bool) *csvOut {
	return &csvOut{w: csv.NewWriter(w), prefill: sortedNames(prefill), set: sortedNames(set)}
}

func (o *csvOut) header() error {
	cols := append([]string{}, fixedColumns...)
	for _, n := range o.prefill {
		cols = append(cols, prefillPrefix+n)
	}
	for _, n := range o.set {
		cols = append(cols, setPrefix+n)
	}
	return o.w.Write(cols)
}

// row writes inv; an attribute that has no column is an error (the table
// changed between the passes that found the columns and wrote the rows).
func (o *csvOut) row(inv invite.Invitation) error {
	app := inv.App
	if app == invite.AnyApp {
		app = ""
	}
	rec := []string{inv.Subject, app, stamp(inv.Expires), inv.Note, string(inv.Status),
		stamp(inv.Created), stamp(inv.First), stamp(inv.Last), strconv.FormatInt(inv.Count, 10)}
	for _, kv := range []struct {
		prefix string
		cols   []string
		values map[string]string
	}{{prefillPrefix, o.prefill, inv.Prefill}, {setPrefix, o.set, inv.Set}} {
		for _, n := range kv.cols {
			rec = append(rec, kv.values[n])
		}
		if extra := len(kv.values) - countPresent(kv.values, kv.cols); extra > 0 {
			return fmt.Errorf("invitation %s gained a %s* attribute while exporting: run the export again", inv.Key, kv.prefix)
		}
	}
	return o.w.Write(rec)
}

func countPresent(m map[string]string, cols []string) int {
	n := 0
	for _, c := range cols {
		if _, ok := m[c]; ok {
			n++
		}
	}
	return n
}
