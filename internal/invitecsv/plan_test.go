package invitecsv

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/invitegate/invitegate/internal/invite"
)

const appA = "5f3e2d1c-2222-4b3a-8c9d-1a2b3c4d5e6f"

var now = time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC)

func mustHeader(t *testing.T, cols string) *header {
	t.Helper()
	h, err := parseHeader(strings.Split(cols, ","), 1)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestParseHeader(t *testing.T) {
	h := mustHeader(t, " Email ,APP,prefill.givenName,Prefill.surname,SET.companyName,colour")
	if h.at[colEmail] != 0 || h.at[colApp] != 1 || h.width != 6 {
		t.Fatalf("fixed columns: %+v", h)
	}
	if want := []attrColumn{{"givenName", 2}, {"surname", 3}}; !reflect.DeepEqual(h.prefill, want) {
		t.Fatalf("prefill columns %+v, want %+v", h.prefill, want)
	}
	if want := []attrColumn{{"companyName", 4}}; !reflect.DeepEqual(h.set, want) {
		t.Fatalf("set columns %+v, want %+v", h.set, want)
	}
	if !reflect.DeepEqual(h.unknown, []string{"colour"}) {
		t.Fatalf("unknown columns %q", h.unknown)
	}

	for _, tc := range []struct{ cols, msg string }{
		{"email,note,Note", "columns 2 and 3 are both Note"},
		{"email,prefill.city,PREFILL.city", "columns 2 and 3 are both PREFILL.city"},
		{"email,,note", "column 2 has no name"},
		{"app,note", "no email column"},
		{"jo@example.org,,30d", `looks like data ("jo@example.org")`},
		{"email,prefill.given name", "not an attribute name"},
		{"email,set.", "no attribute name after the dot"},
	} {
		_, err := parseHeader(strings.Split(tc.cols, ","), 1)
		var ce *Error
		if !errors.As(err, &ce) || ce.Line != 1 || !strings.Contains(err.Error(), tc.msg) || !strings.HasPrefix(err.Error(), "line 1: ") {
			t.Errorf("parseHeader(%q) = %v, want an *Error at line 1 saying %q", tc.cols, err, tc.msg)
		}
	}
	// Attribute names are case-sensitive: these are two attributes.
	if h := mustHeader(t, "email,prefill.city,prefill.City"); len(h.prefill) != 2 {
		t.Fatalf("prefill.city and prefill.City: %+v", h.prefill)
	}
}

func ptr[T any](v T) *T { return &v }

func TestParseRow(t *testing.T) {
	h := mustHeader(t, "email,app,expires,note,status,created,redeemed_first,redeemed_last,redemptions,sent,sent_first,sent_last,prefill.givenName,set.companyName")
	row, problems := h.parseRow([]string{" Jo@Example.ORG ", strings.ToUpper(appA), "2027-01-31", "a, \"note\"", "Revoked",
		"2026-01-02T03:04:05.123Z", "2026-02-01T00:00:00+01:00", "2026-03-01T00:00:00Z", "3",
		"2", "2026-01-03T00:00:00Z", "2026-01-10T12:00:00+02:00", "Jo", ""}, 7, now)
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	want := Row{Line: 7, Change: invite.Change{
		Key:     invite.Key{Subject: "jo@example.org", App: appA},
		Expires: ptr(time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC)), Note: ptr("a, \"note\""), Status: invite.StatusRevoked,
		Created: time.Date(2026, 1, 2, 3, 4, 5, 123e6, time.UTC),
		Redemptions: invite.Redemptions{Count: 3, First: time.Date(2026, 1, 31, 23, 0, 0, 0, time.UTC),
			Last: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)},
		Sent: invite.SentRecord{SentCount: 2, FirstSent: time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC),
			LastSent: time.Date(2026, 1, 10, 10, 0, 0, 0, time.UTC)},
		Prefill: invite.Values{Put: map[string]string{"givenName": "Jo"}},
		Set:     invite.Values{Remove: []string{"companyName"}},
	}}
	if !reflect.DeepEqual(row, want) {
		t.Fatalf("parseRow:\n got %+v\nwant %+v", row, want)
	}

	// Columns the file lacks change nothing.
	row, _ = mustHeader(t, "email").parseRow([]string{"jo@example.org"}, 2, now)
	if row.Expires != nil || row.Note != nil || row.Status != "" || row.Prefill.Put != nil || row.Set.Remove != nil {
		t.Fatalf("a row of only an email changes %+v", row.Change)
	}

	h = mustHeader(t, "email,app,expires,status,redemptions,created")
	for _, tc := range []struct {
		fields []string
		want   []string
	}{
		{[]string{"jo@", "", "", "", "", ""}, []string{`email: "jo@" is not an email address`}},
		{[]string{"", "", "", "", "", ""}, []string{"email: is empty"}},
		{[]string{"jo@example.org", "portal", "", "", "", ""}, []string{`app: "portal" is not an application id`}},
		{[]string{"jo@example.org", "", "soon", "", "", ""}, []string{`expires: "soon" is not an expiry`}},
		{[]string{"jo@example.org", "", "", "expired", "", ""}, []string{"status: expired is not stored"}},
		{[]string{"jo@example.org", "", "", "gone", "", ""}, []string{`status: unknown status "gone"`}},
		{[]string{"jo@example.org", "", "", "", "-1", ""}, []string{`redemptions: "-1" is not a count`}},
		{[]string{"jo@example.org", "", "", "", "", "yesterday"}, []string{`created: "yesterday" is not an RFC 3339 time`}},
		{[]string{"jo@example.org", ""}, []string{"2 fields, but the header has 6 columns"}},
		{[]string{"jo@example.org", "", "", "", "", "caf\xe9"}, []string{"field 6 is not UTF-8 text"}},
		// Every problem of a row at once.
		{[]string{"jo", "portal", "soon", "", "", ""}, []string{"email:", "app:", "expires:"}},
	} {
		_, problems := h.parseRow(tc.fields, 3, now)
		if len(problems) != len(tc.want) {
			t.Errorf("parseRow(%q) = %q, want %d problems", tc.fields, problems, len(tc.want))
			continue
		}
		for i := range problems {
			if !strings.Contains(problems[i], tc.want[i]) {
				t.Errorf("parseRow(%q) problem %d = %q, want %q", tc.fields, i, problems[i], tc.want[i])
			}
		}
	}

	// The sent record is history like the redemptions, checked the same way.
	h = mustHeader(t, "email,sent,sent_first,sent_last")
	for _, tc := range []struct {
		fields []string
		want   string
	}{
		{[]string{"jo@example.org", "-1", "", ""}, `sent: "-1" is not a count of messages sent`},
		{[]string{"jo@example.org", "2147483648", "", ""}, `sent: "2147483648" is not a count of messages sent`},
		{[]string{"jo@example.org", "1", "last week", ""}, `sent_first: "last week" is not an RFC 3339 time`},
		{[]string{"jo@example.org", "1", "", "2026-13-01T00:00:00Z"}, `sent_last: "2026-13-01T00:00:00Z" is not an RFC 3339 time`},
	} {
		if _, problems := h.parseRow(tc.fields, 3, now); len(problems) != 1 || !strings.Contains(problems[0], tc.want) {
			t.Errorf("parseRow(%q) = %q, want %q", tc.fields, problems, tc.want)
		}
	}
}

func TestCheck(t *testing.T) {
	in := strings.Join([]string{
		"email,app,note",
		"amy@example.org,,one",
		"bob@example.org,,two",
		"AMY@example.org,*,one", // identical to line 2
		",,",                    // a spreadsheet's empty row
		"carl@example.org,,x",
		"carl@example.org,,y", // conflicts with line 6
		"not-an-address,,z",
		"dee@example.org,,w",
		"@gmail.com,,everyone", // a public mail provider
		"@example.org,,a partner",
	}, "\n")
	plan, err := Check(strings.NewReader(in), Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	wantProblems := []string{
		"line 7: carl@example.org is also on line 6, with different values: keep one of them",
		`line 8: email: "not-an-address" is not an email address or an @domain`,
		"line 10: email: @gmail.com is a public mail provider: a whole-domain invitation would let anyone with an address there sign up; invite the addresses one by one, or give --allow-public-domain",
	}
	var got []string
	for _, p := range plan.Problems {
		got = append(got, p.Error())
	}
	if !reflect.DeepEqual(got, wantProblems) {
		t.Fatalf("problems:\n got %q\nwant %q", got, wantProblems)
	}
	if plan.Rows != 4 || !reflect.DeepEqual(plan.Duplicates, []int{4}) {
		t.Fatalf("rows %d, duplicates %v; want 4 (amy, bob, dee, @example.org), [4]", plan.Rows, plan.Duplicates)
	}
	next, err := plan.Replay(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	var lines []int
	for {
		row, ok, err := next()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		lines = append(lines, row.Line)
	}
	if want := []int{2, 3, 9, 11}; !reflect.DeepEqual(lines, want) {
		t.Fatalf("Replay yields lines %v, want %v", lines, want)
	}
	if _, err := plan.Replay(strings.NewReader("")); err == nil {
		t.Fatal("Replay of an emptied file: no error")
	}
	next, _ = plan.Replay(strings.NewReader(strings.Replace(in, "bob@example.org,,two", "bob@,,two", 1)))
	row, ok, err := next()
	if row.Line != 2 || !ok || err != nil {
		t.Fatalf("Replay of a changed file, first row: %+v, %v, %v", row, ok, err)
	}
	if _, _, err := next(); err == nil || !strings.Contains(err.Error(), "line 3 is now invalid") {
		t.Fatalf("Replay of a changed file: %v", err)
	}

	// With --allow-public-domain, and a store that refuses a large note.
	tooLarge := func(inv invite.Invitation) error {
		if len(inv.Note) > 5 {
			return invite.ErrTooLarge
		}
		return nil
	}
	plan, err = Check(strings.NewReader(in), Options{Now: now, AllowPublicDomain: true, Fits: tooLarge})
	if err != nil {
		t.Fatal(err)
	}
	// Line 10 is now a public domain that is allowed, but its note is too
	// large, as is line 11's.
	if len(plan.Problems) != 4 || plan.Problems[2].Line != 10 || plan.Problems[3].Line != 11 || !strings.Contains(plan.Problems[3].Msg, "too large") {
		t.Fatalf("problems with Fits: %v", plan.Problems)
	}

	for _, tc := range []struct{ in, msg string }{
		{"", "line 1: the file is empty"},
		{"email,colour\n", "line 1: unknown column colour"},
		{"email,note\njo@example.org,\"x\ny\n", "line 2: field 2 opens a quote that is never closed"},
	} {
		_, err := Check(strings.NewReader(tc.in), Options{Now: now})
		var ce *Error
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("Check(%q) = %v, want an *Error saying %q", tc.in, err, tc.msg)
		}
	}
	if plan, err := Check(strings.NewReader("email,colour\njo@example.org,red\n"), Options{Now: now, IgnoreUnknown: true}); err != nil || plan.Rows != 1 || !reflect.DeepEqual(plan.Unknown, []string{"colour"}) {
		t.Errorf("IgnoreUnknown: %v, %+v", err, plan)
	}
}

func TestChanges(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a := invite.Invitation{Status: invite.StatusPending, Note: "x", Created: t0, Prefill: map[string]string{"city": "Leeds", "givenName": "Jo"}}
	b := a
	b.Note, b.Prefill = "y", map[string]string{"givenName": "Jo", "surname": ""}
	if got, want := Changes(a, b), []string{"note", "prefill.city", "prefill.surname"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Changes = %q, want %q", got, want)
	}
	if got := Changes(a, a); len(got) != 0 {
		t.Fatalf("Changes of the same invitation = %q", got)
	}
}
