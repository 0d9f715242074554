package invitestats

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/invitegate/invitegate/internal/invite"
	"github.com/invitegate/invitegate/internal/invite/invitetest"
)

const (
	appA = "5f3e2d1c-2222-4b3a-8c9d-1a2b3c4d5e6f"
	appB = "0c9b8a7d-3333-4c5d-9e8f-2b3c4d5e6f70"
)

func TestCount(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC)
	today := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	firstDay := today.AddDate(0, 0, -29) // 2026-10-28
	s := invitetest.NewMemory()
	key := func(subject, app string) invite.Key { return invite.Key{Subject: subject, App: app} }
	for _, inv := range []invite.Invitation{
		{Key: key("jo@example.org", invite.AnyApp), Status: invite.StatusPending},
		{Key: key("jo@example.org", appA), Status: invite.StatusRevoked},
		{Key: key("amy@example.org", appB), Status: invite.StatusPending},
		{Key: key("old@example.org", invite.AnyApp), Status: invite.StatusPending, Expires: now.Add(-time.Hour)},
		{Key: key("@partner.example", invite.AnyApp), Status: invite.StatusPending},
	} {
		if err := s.Put(ctx, inv); err != nil {
			t.Fatal(err)
		}
	}
	redeem := func(k invite.Key, email string, at ...time.Time) {
		for i, a := range at {
			if _, err := s.Redeem(ctx, invite.Invitation{Key: k}, email, fmt.Sprintf("%s-%d", email, i), a); err != nil {
				t.Fatal(err)
			}
		}
	}
	redeem(key("jo@example.org", invite.AnyApp), "jo@example.org", now.Add(-time.Hour))                             // today, in the last 24 h
	redeem(key("amy@example.org", appB), "amy@example.org", firstDay.Add(-time.Nanosecond), now.Add(-50*time.Hour)) // first before the window
	redeem(key("@partner.example", invite.AnyApp), "cy@partner.example", firstDay)                                  // the window's first instant
	redeem(key("@partner.example", invite.AnyApp), "di@partner.example", now.Add(-3*24*time.Hour), now.Add(-10*time.Minute))
	redeem(key("@partner.example", invite.AnyApp), "ed@partner.example", today.Add(24*time.Hour)) // tomorrow: a clock ahead

	st, err := Count(ctx, s, now, 1)
	if err != nil {
		t.Fatal(err)
	}
	perDay := st.SignUps.PerDay
	st.SignUps.PerDay = nil
	want := Stats{
		Invitations: 5,
		ByStatus:    map[string]int{"pending": 1, "redeemed": 2, "expired": 1, "revoked": 1}, // jo and amy signed up
		ByApp:       map[string]int{"*": 3, appA: 1, appB: 1},
		Domains:     2,
		TopDomains:  []Domain{{Domain: "example.org", Invitations: 4, SignUps: 3}},
		SignUps:     SignUps{Total: 7, ThroughDomains: 4, Last24h: 3, Last7d: 4}, // ed's clock ahead counts as recent
	}
	if !reflect.DeepEqual(st, want) {
		t.Fatalf("Count:\n got %+v\nwant %+v", st, want)
	}
	if len(perDay) != Days || perDay[0].Date != "2026-10-28" || perDay[Days-1].Date != "2026-11-26" {
		t.Fatalf("per day: %d days from %v to %v; want %d from 2026-10-28 to 2026-11-26", len(perDay), perDay[0], perDay[len(perDay)-1], Days)
	}
	got := map[string]int{}
	for _, d := range perDay {
		if d.Addresses > 0 {
			got[d.Date] = d.Addresses
		}
	}
	if w := map[string]int{"2026-10-28": 1, "2026-11-23": 1, "2026-11-26": 1}; !reflect.DeepEqual(got, w) {
		t.Fatalf("sign-ups per day = %v, want %v", got, w)
	}
}
