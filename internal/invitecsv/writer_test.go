package invitecsv

import (
	"bytes"
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/invitegate/invitegate/internal/invite"
	"github.com/invitegate/invitegate/internal/invite/invitetest"
)

func TestFormulaCells(t *testing.T) {
	for _, tc := range []struct{ value, written string }{
		{"=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"},
		{"+1", "'+1"},
		{"-1", "'-1"},
		{"@example.org", "'@example.org"},
		{"\tx", "'\tx"},
		{"\rx", "'\rx"},
		{"'=x", "''=x"}, // already neutralised once: kept exact
		{"''@x", "'''@x"},
		{"'tis", "'tis"}, // a ' before text is text
		{"'", "'"},
		{"", ""},
		{"a=b", "a=b"},
		{" =x", " =x"},
	} {
		if got := neutralise(tc.value); got != tc.written {
			t.Errorf("neutralise(%q) = %q, want %q", tc.value, got, tc.written)
		}
		if got := restore(tc.written); got != tc.value {
			t.Errorf("restore(%q) = %q, want %q", tc.written, got, tc.value)
		}
	}
}

func put(t *testing.T, s invite.Store, invs ...invite.Invitation) {
	t.Helper()
	for _, inv := range invs {
		if err := s.Put(context.Background(), inv); err != nil {
			t.Fatal(err)
		}
	}
}

func export(t *testing.T, s Lister) string {
	t.Helper()
	var b bytes.Buffer
	if _, err := Export(context.Background(), s, &b, func(invite.Invitation) bool { return true }); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestRoundTrip exports invitations whose cells a spreadsheet would take
// for formulas, imports the file into an empty store, and exports again:
// the same bytes, the same invitations.
func TestRoundTrip(t *testing.T) {
	t0 := time.Date(2026, 3, 4, 5, 6, 7, 891e6, time.UTC)
	src := invitetest.NewMemory()
	put(t, src,
		invite.Invitation{Key: invite.Key{Subject: "@partner.example", App: invite.AnyApp}, Status: invite.StatusPending, Created: t0,
			Note: "=1+2", Prefill: map[string]string{"givenName": "-Jo", "surname": "@home"}, Set: map[string]string{"companyName": "+44 Ltd"}},
		invite.Invitation{Key: invite.Key{Subject: "-jo@example.org", App: appA}, Status: invite.StatusRevoked, Created: t0,
			Note: "'=already quoted", Redemptions: invite.Redemptions{Count: 2, First: t0, Last: t0.Add(time.Hour)}},
		// An address whose local part is ', not the domain invitation.
		invite.Invitation{Key: invite.Key{Subject: "'@example.org", App: invite.AnyApp}, Status: invite.StatusPending, Created: t0},
		invite.Invitation{Key: invite.Key{Subject: "amy@example.org", App: invite.AnyApp}, Status: invite.StatusPending, Created: t0,
			Expires: t0.AddDate(1, 0, 0), Note: "\tindented\r\nand 'tis", Prefill: map[string]string{"givenName": "'Amy"},
			SentRecord: invite.SentRecord{SentCount: 2, FirstSent: t0.Add(time.Minute), LastSent: t0.Add(48 * time.Hour)}},
	)
	first := export(t, src)
	for _, want := range []string{
		"'@partner.example,,,'=1+2,pending,2026-03-04T05:06:07.891Z,,,0,0,,,'-Jo,'@home,'+44 Ltd\n",
		"'-jo@example.org," + appA + ",,''=already quoted,revoked,",
		"\n''@example.org,,,,pending,",
		"amy@example.org,,2027-03-04T05:06:07.891Z,\"'\tindented\r\nand 'tis\",pending,2026-03-04T05:06:07.891Z,,,0,2,2026-03-04T05:07:07.891Z,2026-03-06T05:06:07.891Z,'Amy,,\n",
	} {
		if !strings.Contains(first, want) {
			t.Errorf("export lacks %q:\n%s", want, first)
		}
	}

	plan, err := Check(strings.NewReader(first), Options{Now: t0})
	if err != nil || len(plan.Problems) > 0 {
		t.Fatalf("Check of an export: %v %v", err, plan.Problems)
	}
	next, err := plan.Replay(strings.NewReader(first))
	if err != nil {
		t.Fatal(err)
	}
	dst := invitetest.NewMemory()
	for {
		row, ok, err := next()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		if err := dst.Create(context.Background(), row.Apply(nil, t0)); err != nil {
			t.Fatal(err)
		}
	}
	if second := export(t, dst); second != first {
		t.Fatalf("export after import differs:\n%s\nwant\n%s", second, first)
	}
	var a, b []invite.Invitation
	src.List(context.Background(), "", func(inv invite.Invitation) error { a = append(a, inv); return nil })
	dst.List(context.Background(), "", func(inv invite.Invitation) error { b = append(b, inv); return nil })
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("imported invitations differ:\n got %+v\nwant %+v", b, a)
	}
}

func TestReadKeys(t *testing.T) {
	for _, tc := range []struct {
		name, in, app string
		want          []KeyLine
		problems      []string
	}{
		{"list", "amy@example.org\n\nBob@Example.org\namy@example.org\n@partner.example\n", "",
			[]KeyLine{{1, invite.Key{Subject: "amy@example.org", App: invite.AnyApp}}, {3, invite.Key{Subject: "bob@example.org", App: invite.AnyApp}},
				{5, invite.Key{Subject: "@partner.example", App: invite.AnyApp}}}, nil},
		{"list for an app", "amy@example.org\n", appA, []KeyLine{{1, invite.Key{Subject: "amy@example.org", App: appA}}}, nil},
		{"an export, neutralised", "email,app,note\n'@partner.example,,x\njo@example.org," + appA + ",y\n", "",
			[]KeyLine{{2, invite.Key{Subject: "@partner.example", App: invite.AnyApp}}, {3, invite.Key{Subject: "jo@example.org", App: appA}}}, nil},
		{"bad lines", "amy@example.org\nnot an address\na,b\n", "", []KeyLine{{1, invite.Key{Subject: "amy@example.org", App: invite.AnyApp}}},
			[]string{`line 2: "not an address" is not an email address or an @domain`, "line 3: expected one EMAIL or @DOMAIN per line"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keys, problems, err := ReadKeys(strings.NewReader(tc.in), tc.app)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(keys, tc.want) {
				t.Fatalf("keys %+v, want %+v", keys, tc.want)
			}
			if len(problems) != len(tc.problems) {
				t.Fatalf("problems %v, want %q", problems, tc.problems)
			}
			for i, p := range problems {
				if !strings.HasPrefix(p.Error(), tc.problems[i]) {
					t.Errorf("problem %d = %q, want %q", i, p, tc.problems[i])
				}
			}
		})
	}
	for in, msg := range map[string]string{
		"":                              "line 1: the file is empty",
		"email,app\namy@example.org,\n": "line 1: the file has an app column and --app is given",
		"amy@example.org\n\"unclosed\n": "line 2: field 1 opens a quote that is never closed",
	} {
		if _, _, err := ReadKeys(strings.NewReader(in), appA); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("ReadKeys(%q) = %v, want %q", in, err, msg)
		}
	}
}
