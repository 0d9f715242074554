package main

import (
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
		if err == nil || !strings.Contains(err.Error(), tc.msg) || !strings.HasPrefix(err.Error(), "line 1: ") {
			t.Errorf("parseHeader(%q) = %v, want line 1 and %q", tc.cols, err, tc.msg)
		}
		if _, usage := err.(usageError); !usage {
			t.Errorf("parseHeader(%q) error is not a usage error", tc.cols)
		}
	}
	// Attribute names are case-sensitive: these are two attributes.
	if h := mustHeader(t, "email,prefill.city,prefill.City"); len(h.prefill) != 2 {
		t.Fatalf("prefill.city and prefill.City: %+v", h.prefill)
	}
}

func TestParseRow(t *testing.T) {
	h := mustHeader(t, "email,app,expires,note,status,created,redeemed_first,redeemed_last,redemptions,prefill.givenName,set.companyName")
	row, problems := h.parseRow([]string{" Jo@Example.ORG ", strings.ToUpper(appA), "2027-01-31", "a, \"note\"", "Revoked",
		"2026-01-02T03:04:05.123Z", "2026-02-01T00:00:00+01:00", "2026-03-01T00:00:00Z", "3", "Jo", ""}, 7, now)
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	want := importRow{
		line: 7, key: invite.Key{Subject: "jo@example.org", App: appA},
		expires: time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC), note: "a, \"note\"", status: invite.StatusRevoked,
		created: time.Date(2026, 1, 2, 3, 4, 5, 123e6, time.UTC), first: time.Date(2026, 1, 31, 23, 0, 0, 0, time.UTC),
		last: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), count: 3,
		prefill: map[string]string{"givenName": "Jo"},
	}
	if !reflect.DeepEqual(row, want) {
		t.Fatalf("parseRow:\n got %+v\nwant %+v", row, want)
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
			if !strings.HasPrefix(problems[i], tc.want[i]) && !strings.Contains(problems[i], tc.want[i]) {
				t.Errorf("parseRow(%q) problem %d = %q, want %q", tc.fields, i, problems[i], tc.want[i])
			}
		}
	}
}

func TestApply(t *testing.T) {
	k := invite.Key{Subject: "jo@example.org", App: invite.AnyApp}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	existing := invite.Invitation{
		Key: k, Status: invite.StatusRevoked, Expires: t0.AddDate(1, 0, 0), Created: t0, Note: "old",
		Prefill: map[string]string{"givenName": "Jo", "city": "Leeds"}, Set: map[string]string{"companyName": "Old Ltd"},
		Redemptions: invite.Redemptions{Count: 2, First: t0, Last: t0.AddDate(0, 1, 0)},
	}
	row := func(h *header, fields ...string) importRow {
		r, problems := h.parseRow(fields, 2, now)
		if len(problems) > 0 {
			t.Fatal(problems)
		}
		return r
	}

	// A new invitation: pending, created now, history from the file.
	h := mustHeader(t, "email,note,redemptions")
	got := h.apply(row(h, "jo@example.org", "hi", ""), nil, now)
	want := invite.Invitation{Key: k, Status: invite.StatusPending, Created: now, Note: "hi"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("new:\n got %+v\nwant %+v", got, want)
	}
	if got := h.apply(row(h, "jo@example.org", "hi", "4"), nil, now); got.Status != invite.StatusRedeemed || got.Count != 4 {
		t.Fatalf("new with redemptions: %+v, want redeemed, 4", got)
	}

	// An existing one: only the file's columns change; history, created
	// and the revocation stay.
	h = mustHeader(t, "email,note,prefill.city,redemptions,created")
	got = h.apply(row(h, "jo@example.org", "new", "", "9", "2020-01-01T00:00:00Z"), &existing, now)
	want = existing
	want.Note, want.Prefill = "new", map[string]string{"givenName": "Jo"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("existing:\n got %+v\nwant %+v", got, want)
	}
	if existing.Prefill["city"] != "Leeds" {
		t.Fatal("apply changed the invitation it was given")
	}
	if c := changes(existing, got); !reflect.DeepEqual(c, []string{"note", "prefill.city"}) {
		t.Fatalf("changes = %q", c)
	}

	// status un-revokes (as redeemed: it was used) or revokes.
	h = mustHeader(t, "email,status")
	if got := h.apply(row(h, "jo@example.org", "pending"), &existing, now); got.Status != invite.StatusRedeemed {
		t.Fatalf("status pending over a used revoked invitation: %s, want redeemed", got.Status)
	}
	active := existing
	active.Status = invite.StatusRedeemed
	if got := h.apply(row(h, "jo@example.org", "pending"), &active, now); got.Status != invite.StatusRedeemed {
		t.Fatalf("status pending over a redeemed invitation: %s, want redeemed (the gate's)", got.Status)
	}
	if got := h.apply(row(h, "jo@example.org", "revoked"), &active, now); got.Status != invite.StatusRevoked {
		t.Fatalf("status revoked: %s", got.Status)
	}
	if got := h.apply(row(h, "jo@example.org", ""), &existing, now); got.Status != invite.StatusRevoked {
		t.Fatalf("no status un-revoked: %s", got.Status)
	}
	if c := changes(existing, h.apply(row(h, "jo@example.org", ""), &existing, now)); len(c) != 0 {
		t.Fatalf("re-applying changed %q", c)
	}
}

func TestCheckImport(t *testing.T) {
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
	}, "\n")
	plan, err := checkImport(strings.NewReader(in), now, false)
	if err != nil {
		t.Fatal(err)
	}
	wantProblems := []string{
		"line 7: carl@example.org is also on line 6, with different values: keep one of them",
		`line 8: email: "not-an-address" is not an email address or an @domain`,
	}
	if !reflect.DeepEqual(plan.problems, wantProblems) {
		t.Fatalf("problems:\n got %q\nwant %q", plan.problems, wantProblems)
	}
	if plan.rows != 3 || !reflect.DeepEqual(plan.dups, []int{4}) {
		t.Fatalf("rows %d, duplicates %v; want 3 (amy, bob, dee), [4]", plan.rows, plan.dups)
	}
	for _, l := range []int{4, 6, 7, 8} {
		if !plan.skip[l] {
			t.Errorf("line %d is not skipped", l)
		}
	}

	for _, tc := range []struct{ in, msg string }{
		{"", "line 1: the file is empty"},
		{"email,colour\n", "line 1: unknown column colour"},
		{"email,note\njo@example.org,\"x\ny\n", "line 2: field 2 opens a quote that is never closed"},
	} {
		if _, err := checkImport(strings.NewReader(tc.in), now, false); err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("checkImport(%q) = %v, want %q", tc.in, err, tc.msg)
		}
	}
	if plan, err := checkImport(strings.NewReader("email,colour\njo@example.org,red\n"), now, true); err != nil || plan.rows != 1 {
		t.Errorf("--ignore-unknown: %v, %d rows", err, plan.rows)
	}
}
