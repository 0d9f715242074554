package invitecsv

import (
	"fmt"
	"hash/fnv"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/invitegate/invitegate/internal/invite"
)

// Row is one valid data row of an import file: the change it asks for.
type Row struct {
	Line int
	invite.Change
}

// parseRow checks one data row. Relative expiries count from now. It
// returns every problem of the row, so the administrator fixes them at once.
func (h *header) parseRow(fields []string, line int, now time.Time) (Row, []string) {
	row := Row{Line: line}
	if len(fields) != h.width {
		return row, []string{fmt.Sprintf("%d fields, but the header has %d columns", len(fields), h.width)}
	}
	// The address may have spaces around it; restore once, after trimming.
	email := ""
	if i, ok := h.at[colEmail]; ok {
		email = restore(strings.TrimSpace(fields[i]))
	}
	for i, f := range fields {
		if !utf8.ValidString(f) {
			return row, []string{fmt.Sprintf("field %d is not UTF-8 text: save the file as UTF-8", i+1)}
		}
		fields[i] = restore(f)
	}
	var problems []string
	bad := func(col string, err error) { problems = append(problems, col+": "+err.Error()) }
	cell := func(col string) string {
		if i, ok := h.at[col]; ok {
			return fields[i]
		}
		return ""
	}

	subject, err := invite.ParseSubject(email)
	if email == "" {
		err = fmt.Errorf("is empty")
	}
	if err != nil {
		bad(colEmail, err)
	}
	app, err := invite.ParseApp(cell(colApp))
	if err != nil {
		bad(colApp, err)
	}
	c := &row.Change
	c.Key = invite.Key{Subject: subject, App: app}
	if h.has(colExpires) {
		expires, err := invite.ParseExpiry(cell(colExpires), now)
		if err != nil {
			bad(colExpires, err)
		}
		c.Expires = &expires
	}
	if h.has(colNote) {
		note := cell(colNote)
		c.Note = &note
	}
	if s := strings.TrimSpace(cell(colStatus)); strings.EqualFold(s, invite.StateExpired) {
		problems = append(problems, "status: expired is not stored, it follows from expires: use pending, redeemed or revoked")
	} else if s != "" {
		if c.Status, err = invite.ParseStatus(s); err != nil {
			bad(colStatus, err)
		}
	}
	for _, t := range []struct {
		col string
		dst *time.Time
	}{{colCreated, &c.Created}, {colFirst, &c.Redemptions.First}, {colLast, &c.Redemptions.Last},
		{colSentFirst, &c.Sent.FirstSent}, {colSentLast, &c.Sent.LastSent}} {
		if *t.dst, err = parseStoredTime(cell(t.col)); err != nil {
			bad(t.col, err)
		}
	}
	for _, t := range []struct {
		col, what string
		dst       *int64
	}{{colRedemptions, "sign-ups", &c.Redemptions.Count}, {colSent, "messages sent", &c.Sent.SentCount}} {
		if s := strings.TrimSpace(cell(t.col)); s != "" {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil || n < 0 || n > math.MaxInt32 {
				problems = append(problems, fmt.Sprintf("%s: %q is not a count of %s", t.col, s, t.what))
			}
			*t.dst = n
		}
	}
	c.Prefill, c.Set = attributeCells(fields, h.prefill), attributeCells(fields, h.set)
	return row, problems
}

// attributeCells sets every attribute the file has a column for to the
// row's value, and removes it where the cell is empty.
func attributeCells(fields []string, cols []attrColumn) invite.Values {
	var v invite.Values
	for _, c := range cols {
		if s := fields[c.at]; s != "" {
			if v.Put == nil {
				v.Put = map[string]string{}
			}
			v.Put[c.name] = s
		} else {
			v.Remove = append(v.Remove, c.name)
		}
	}
	return v
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

// fingerprint identifies a row's content, to tell identical duplicate rows
// from conflicting ones.
func (row Row) fingerprint() [16]byte {
	h := fnv.New128a()
	c := row.Change
	expires, note := "-", "-"
	if c.Expires != nil {
		expires = Timestamp(*c.Expires)
	}
	if c.Note != nil {
		note = strconv.Quote(*c.Note)
	}
	fmt.Fprintf(h, "%q|%q|%s|%s|%s|%s|%s|%s|%d|%d|%s|%s", c.Key.Subject, c.Key.App, expires, note, c.Status,
		Timestamp(c.Created), Timestamp(c.Redemptions.First), Timestamp(c.Redemptions.Last), c.Redemptions.Count,
		c.Sent.SentCount, Timestamp(c.Sent.FirstSent), Timestamp(c.Sent.LastSent))
	for _, v := range []invite.Values{c.Prefill, c.Set} {
		for _, n := range sortedNames(v.Put) {
			fmt.Fprintf(h, "|%q=%q", n, v.Put[n])
		}
		h.Write([]byte{0})
	}
	var sum [16]byte
	h.Sum(sum[:0])
	return sum
}

// Changes names the fields, as columns, that differ between a and b; none
// means the row need not be written.
func Changes(a, b invite.Invitation) []string {
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
	diff(colSent, a.SentCount != b.SentCount)
	diff(colSentFirst, !a.FirstSent.Equal(b.FirstSent))
	diff(colSentLast, !a.LastSent.Equal(b.LastSent))
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
