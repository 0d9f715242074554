package invite

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestFilter(t *testing.T) {
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	const app = "5f3e2d1c-2222-4b3a-8c9d-1a2b3c4d5e6f"
	invs := []Invitation{
		{Key: Key{Subject: "jo@example.org", App: AnyApp}, Status: StatusPending},
		{Key: Key{Subject: "old@example.org", App: app}, Status: StatusRedeemed, Expires: now},
		{Key: Key{Subject: "@example.org", App: AnyApp}, Status: StatusRevoked},
		{Key: Key{Subject: "al@example.org.evil.test", App: AnyApp}, Status: StatusPending},
	}
	for _, tc := range []struct {
		status, app, domain string
		want                []string
	}{
		{"", "", "", []string{"jo@example.org", "old@example.org", "@example.org", "al@example.org.evil.test"}},
		{"Pending", "", "", []string{"jo@example.org", "al@example.org.evil.test"}},
		{"expired", "", "", []string{"old@example.org"}},
		{"redeemed", "", "", nil}, // expired is not redeemed
		{"", strings.ToUpper(app), "", []string{"old@example.org"}},
		{"", "*", "example.org", []string{"jo@example.org", "@example.org"}},
		{"", "", "@Example.org", []string{"jo@example.org", "old@example.org", "@example.org"}},
	} {
		f, err := ParseFilter(tc.status, tc.app, tc.domain)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, inv := range invs {
			if f.Match(inv, now) {
				got = append(got, inv.Subject)
			}
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseFilter(%q, %q, %q) selects %q, want %q", tc.status, tc.app, tc.domain, got, tc.want)
		}
	}
	for _, bad := range [][3]string{{"gone", "", ""}, {"", "portal", ""}, {"", "", "x"}} {
		if _, err := ParseFilter(bad[0], bad[1], bad[2]); err == nil {
			t.Errorf("ParseFilter(%q) accepted", bad)
		}
	}
}

func TestFilterMailed(t *testing.T) {
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	inv := func(subject string, created time.Time, sent ...time.Time) Invitation {
		i := Invitation{Key: Key{Subject: subject, App: AnyApp}, Status: StatusPending, Created: created}
		for _, at := range sent {
			i.RecordSent(at)
		}
		return i
	}
	invs := []Invitation{
		inv("new@example.org", now.Add(-2*day)),
		inv("old@example.org", now.Add(-10*day)),
		inv("reminded@example.org", now.Add(-10*day), now.Add(-9*day), now.Add(-day)),
		inv("mailed@example.org", now.Add(-10*day), now.Add(-8*day)),
		inv("@example.org", now.Add(-30*day)), // no one to mail
		{Key: Key{Subject: "undated@example.org", App: AnyApp}, Status: StatusPending},
	}
	for _, tc := range []struct {
		f    Filter
		want []string
	}{
		{Filter{}, []string{"new@example.org", "old@example.org", "reminded@example.org", "mailed@example.org", "@example.org", "undated@example.org"}},
		{Filter{Mailed: MailedAtLeastOnce}, []string{"reminded@example.org", "mailed@example.org"}},
		{Filter{Mailed: MailedNever}, []string{"new@example.org", "old@example.org", "undated@example.org"}},
		// Quiet: since the last message, or since created when none was sent.
		{Filter{QuietFor: 7 * day}, []string{"old@example.org", "mailed@example.org", "undated@example.org"}},
		{Filter{QuietFor: 8 * day}, []string{"old@example.org", "mailed@example.org", "undated@example.org"}},
		{Filter{QuietFor: 8*day + time.Second}, []string{"old@example.org", "undated@example.org"}},
		{Filter{Mailed: MailedNever, QuietFor: 7 * day}, []string{"old@example.org", "undated@example.org"}},
		{Filter{Mailed: MailedAtLeastOnce, State: "pending", Domain: "@example.org"}, []string{"reminded@example.org", "mailed@example.org"}},
	} {
		var got []string
		for _, i := range invs {
			if tc.f.Match(i, now) {
				got = append(got, i.Subject)
			}
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%+v selects %q, want %q", tc.f, got, tc.want)
		}
	}
}
